package com.aichat.dispatch;

import com.aichat.config.ConfigReader;

/**
 * {@code cloud_tasks.*}: the {@code cloud-tasks} dispatch mode and the
 * {@code POST /internal/chat-ai-worker} endpoint.
 *
 * @param project {@code cloud_tasks.project}
 * @param location {@code cloud_tasks.location}
 * @param queue {@code cloud_tasks.queue}
 * @param serviceAccountEmail {@code cloud_tasks.service_account_email}: the OIDC token's identity
 * @param audience {@code cloud_tasks.audience}: the OIDC token's {@code aud} (default: the worker URL)
 * @param endpoint {@code cloud_tasks.endpoint}: override of the Cloud Tasks API endpoint (emulators,
 *     tests); null for Google's
 * @param dispatchDeadlineSeconds {@code cloud_tasks.dispatch_deadline_seconds} (15–1800, default 600)
 * @param workerEndpointEnabled {@code cloud_tasks.worker_endpoint_enabled}: the endpoint is on in
 *     {@code cloud-tasks} mode, and in {@code local} mode only when this is true
 * @param oidcJwksUrl {@code cloud_tasks.oidc_jwks_url} (default Google's certs)
 * @param workerUrl the task target: {@code node.public_base_url} + {@link #WORKER_PATH}
 */
public record CloudTasksSettings(
    String project,
    String location,
    String queue,
    String serviceAccountEmail,
    String audience,
    String endpoint,
    int dispatchDeadlineSeconds,
    boolean workerEndpointEnabled,
    String oidcJwksUrl,
    String workerUrl) {

  public static final String WORKER_PATH = "/internal/chat-ai-worker";

  public static CloudTasksSettings from(ConfigReader r, DispatchSettings dispatch, String publicBaseUrl) {
    boolean cloud = dispatch.cloudTasks();
    String project = cloud ? r.requiredString("project") : r.optString("project");
    String location = cloud ? r.requiredString("location") : r.optString("location");
    String queue = cloud ? r.requiredString("queue") : r.optString("queue");
    boolean endpoint = cloud || r.bool("worker_endpoint_enabled", false);
    // The endpoint checks the token's email against it, so it is required wherever the endpoint is on.
    String email = endpoint ? r.requiredString("service_account_email") : r.optString("service_account_email");
    String audience = r.optString("audience");
    if (audience == null) {
      audience = publicBaseUrl + WORKER_PATH;
    }
    String jwks = r.optKeyUrl("oidc_jwks_url");
    return new CloudTasksSettings(
        project,
        location,
        queue,
        email,
        audience,
        r.optString("endpoint"),
        r.intValue("dispatch_deadline_seconds", 600, 15, 1800),
        endpoint,
        jwks == null ? "https://www.googleapis.com/oauth2/v3/certs" : jwks,
        publicBaseUrl + WORKER_PATH);
  }
}
