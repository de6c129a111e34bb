package com.aichat.api;

import com.aichat.ai.provider.ProviderSettings;
import com.aichat.auth.AuthSettings;
import com.aichat.config.DeploymentSettings;
import com.aichat.config.NodeSettings;
import com.aichat.dispatch.CloudTasksSettings;
import com.aichat.dispatch.DispatchSettings;
import com.aichat.gateway.GatewaySettings;
import com.aichat.limits.LimitsSettings;
import com.aichat.metrics.MetricsSettings;
import com.aichat.web.WebClientSettings;

/**
 * The settings the HTTP API verticle reads: the slice of the node's configuration it serves with,
 * assembled at the composition root. {@code deployment} and {@code providers} feed the readiness
 * report; {@code gateway} and {@code webclient} the web client's page config.
 */
public record ApiSettings(
    NodeSettings node,
    DeploymentSettings deployment,
    HttpSettings http,
    AuthSettings auth,
    SubscriptionSettings subscription,
    DispatchSettings dispatch,
    ProviderSettings providers,
    GatewaySettings gateway,
    CloudTasksSettings cloudTasks,
    WebClientSettings webclient,
    MetricsSettings metrics,
    HistorySettings history,
    LimitsSettings limits,
    MessageControlSettings messages) {}
