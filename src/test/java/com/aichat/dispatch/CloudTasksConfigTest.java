package com.aichat.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.aichat.AppConfig;
import com.aichat.config.ConfigException;
import com.aichat.testing.TestApp;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The {@code cloud_tasks.*} settings as the service validates them at startup. */
class CloudTasksConfigTest {

  @Test
  @DisplayName("conf/cloud-tasks.example.json on top of the defaults is a valid cloud-tasks configuration")
  void exampleConfigIsValid() throws Exception {
    JsonObject merged = TestApp.defaults()
        .mergeIn(new JsonObject(Files.readString(Path.of("conf/cloud-tasks.example.json"))), true);
    AppConfig cfg = AppConfig.from(merged);
    assertThat(cfg.dispatch().cloudTasks()).isTrue();
    CloudTasksSettings ct = cfg.cloudTasks();
    assertThat(ct.workerEndpointEnabled()).isTrue();
    assertThat(ct.workerUrl()).isEqualTo("https://chat-service-abc123-ew.a.run.app/internal/chat-ai-worker");
    assertThat(ct.audience()).isEqualTo(ct.workerUrl());
    assertThat(ct.endpoint()).isNull();
    assertThat(ct.serviceAccountEmail()).endsWith(".iam.gserviceaccount.com");
  }

  @Test
  @DisplayName("In local mode the worker endpoint is off unless cloud_tasks.worker_endpoint_enabled is true")
  void localModeEndpointIsOptIn(@org.junit.jupiter.api.io.TempDir Path dir) {
    AppConfig off = AppConfig.from(TestApp.config(dir, new JsonObject()));
    assertThat(off.cloudTasks().workerEndpointEnabled()).isFalse();
    AppConfig on = AppConfig.from(TestApp.config(dir, new JsonObject()
        .put("cloud_tasks", new JsonObject()
            .put("worker_endpoint_enabled", true)
            .put("service_account_email", "sa@p.iam.gserviceaccount.com"))));
    assertThat(on.cloudTasks().workerEndpointEnabled()).isTrue();
    assertThat(on.dispatch().cloudTasks()).isFalse();
  }

  @Test
  @DisplayName("Turning the endpoint on without the service account to expect stops startup naming the key")
  void enabledEndpointRequiresTheServiceAccount(@org.junit.jupiter.api.io.TempDir Path dir) {
    JsonObject cfg = TestApp.config(dir, new JsonObject()
        .put("cloud_tasks", new JsonObject().put("worker_endpoint_enabled", true)));
    assertThatThrownBy(() -> AppConfig.from(cfg))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("cloud_tasks.service_account_email");
  }

  @Test
  @DisplayName("cloud-tasks mode without a queue stops startup naming the key and its variable")
  void cloudTasksModeRequiresTheQueue(@org.junit.jupiter.api.io.TempDir Path dir) {
    JsonObject cfg = TestApp.config(dir, new JsonObject()
        .put("dispatch", new JsonObject().put("mode", "cloud-tasks"))
        .put("cloud_tasks", new JsonObject()
            .put("project", "p").put("location", "l").put("service_account_email", "sa@p.iam.gserviceaccount.com")));
    assertThatThrownBy(() -> AppConfig.from(cfg))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("cloud_tasks.queue")
        .hasMessageContaining("CHAT_CLOUD_TASKS_QUEUE");
  }
}
