package com.aichat;

import com.aichat.ai.provider.ProviderSettings;
import com.aichat.ai.WorkerSettings;
import com.aichat.api.ApiSettings;
import com.aichat.api.HistorySettings;
import com.aichat.api.HttpSettings;
import com.aichat.api.MessageControlSettings;
import com.aichat.api.SubscriptionSettings;
import com.aichat.auth.AuthSettings;
import com.aichat.dispatch.CloudTasksSettings;
import com.aichat.dispatch.DispatchSettings;
import com.aichat.gateway.GatewaySettings;
import com.aichat.jobs.SessionJobSettings;
import com.aichat.jobs.title.TitleSettings;
import com.aichat.limits.LimitsSettings;
import com.aichat.metrics.MetricsSettings;
import com.aichat.ops.ShutdownSettings;
import com.aichat.persistence.MongoSettings;
import com.aichat.web.WebClientSettings;
import com.aichat.config.ConfigReader;
import com.aichat.config.DeploymentSettings;
import com.aichat.config.NodeSettings;
import com.aichat.contract.SessionJobKind;
import io.vertx.core.json.JsonObject;
import java.util.EnumSet;
import java.util.Set;

/**
 * The whole configuration, validated into typed settings once at startup and read only here at the
 * composition root: each verticle receives its own settings records from it. {@link #from} throws a
 * {@link com.aichat.config.ConfigException} naming the first bad key.
 */
public record AppConfig(
    NodeSettings node,
    DeploymentSettings deployment,
    HttpSettings http,
    MongoSettings mongo,
    AuthSettings auth,
    SubscriptionSettings subscription,
    DispatchSettings dispatch,
    WorkerSettings worker,
    ProviderSettings providers,
    GatewaySettings gateway,
    CloudTasksSettings cloudTasks,
    WebClientSettings webclient,
    MetricsSettings metrics,
    ShutdownSettings shutdown,
    HistorySettings history,
    LimitsSettings limits,
    SessionJobSettings sessionJobs,
    TitleSettings titles,
    MessageControlSettings messages) {

  public static AppConfig from(JsonObject json) {
    ConfigReader root = new ConfigReader(json, "");
    NodeSettings node = NodeSettings.from(root.section("node"));
    MongoSettings mongo = MongoSettings.from(root.section("mongo"));
    DispatchSettings dispatch = DispatchSettings.from(root.section("dispatch"));
    DeploymentSettings deployment = DeploymentSettings.from(root.section("verticles"), root.section("cluster"));
    WorkerSettings worker = WorkerSettings.from(root.section("worker"), root.section("context"), deployment.worker());
    AuthSettings auth = AuthSettings.from(root.section("auth"), mongo.embedded(), node.dataDir());
    ProviderSettings providers =
        ProviderSettings.from(root.section("ai"), root.section("claude"), root.section("offline"), worker.maxConcurrent());
    auth.checkDevSecretWithApiKey(providers.useClaude());
    // on the generated dev secret, loopback unless auth.dev_public_bind (AuthSettings#bindHost)
    HttpSettings http = HttpSettings.from(root.section("http"), root.section("rate_limit"));
    http = http.withHost(auth.bindHost(http.host(), "http.host"));
    GatewaySettings gateway = GatewaySettings.from(root.section("gateway"));
    gateway = gateway.withHost(auth.bindHost(gateway.host(), "gateway.host"));
    return new AppConfig(
        node,
        deployment,
        http,
        mongo,
        auth,
        SubscriptionSettings.from(root.section("subscription"), root.section("quota")),
        dispatch,
        worker,
        providers,
        gateway,
        CloudTasksSettings.from(root.section("cloud_tasks"), dispatch, node.publicBaseUrl()),
        WebClientSettings.from(root.section("webclient")),
        MetricsSettings.from(root.section("metrics"), http.port(), gateway.port()),
        ShutdownSettings.from(root.section("shutdown")),
        HistorySettings.from(root.section("export"), root.section("usage"), root.section("search")),
        LimitsSettings.from(root.section("limits")),
        SessionJobSettings.from(root.section("session_jobs")),
        TitleSettings.from(root.section("titles")),
        MessageControlSettings.from(root.section("messages")));
  }

  /** The API verticle's slice of the configuration. */
  public ApiSettings api() {
    return new ApiSettings(node, deployment, http, auth, subscription, dispatch, providers, gateway, cloudTasks,
        webclient, metrics, history, limits, messages);
  }

  /** The session job kinds the store enqueues when a reply completes ({@code titles.enabled}, ...). */
  public Set<SessionJobKind> autoSessionJobs() {
    return titles.enabled() ? EnumSet.of(SessionJobKind.TITLE) : EnumSet.noneOf(SessionJobKind.class);
  }
}
