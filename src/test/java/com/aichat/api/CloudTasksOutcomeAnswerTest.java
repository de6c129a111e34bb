package com.aichat.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.contract.GenerationOutcome;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.Checkpoint;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
class CloudTasksOutcomeAnswerTest {

  private static final String ID = "0123456789abcdef01234567";

  @Test
  @DisplayName("The worker endpoint answers a final outcome 200 with the outcome, and a retry or busy outcome with the one error model")
  void outcomesAsHttp(Vertx vertx, VertxTestContext ctx) {
    Router router = Router.router(vertx);
    router.get("/retry").handler(c -> CloudTasksWorkerHandler.answer(c, "t1",
        new GenerationOutcome(ID, GenerationOutcome.RETRY, "pending", null)));
    router.get("/busy").handler(c -> CloudTasksWorkerHandler.answer(c, "t2",
        new GenerationOutcome(ID, GenerationOutcome.BUSY, null, null)));
    router.get("/done").handler(c -> CloudTasksWorkerHandler.answer(c, "t3",
        new GenerationOutcome(ID, GenerationOutcome.COMPLETED, "completed", null)));
    Checkpoint answered = ctx.checkpoint(3);
    vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1")
        .onComplete(ctx.succeeding(server -> {
          WebClient client = WebClient.create(vertx);
          int port = server.actualPort();
          client.get(port, "127.0.0.1", "/retry").send().onComplete(ctx.succeeding(r -> ctx.verify(() -> {
            assertThat(r.statusCode()).isEqualTo(503);
            JsonObject error = r.bodyAsJsonObject().getJsonObject("error");
            assertThat(error.getString("code")).isEqualTo("UNAVAILABLE");
            assertThat(error.getString("message")).isNotBlank();
            assertThat(error.getJsonObject("details").getString("outcome")).isEqualTo("retry");
            assertThat(error.getJsonObject("details").getString("messageId")).isEqualTo(ID);
            answered.flag();
          })));
          client.get(port, "127.0.0.1", "/busy").send().onComplete(ctx.succeeding(r -> ctx.verify(() -> {
            assertThat(r.statusCode()).isEqualTo(429);
            assertThat(r.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("RATE_LIMITED");
            assertThat(r.bodyAsJsonObject().getJsonObject("error").getJsonObject("details").getString("outcome"))
                .isEqualTo("busy");
            answered.flag();
          })));
          client.get(port, "127.0.0.1", "/done").send().onComplete(ctx.succeeding(r -> ctx.verify(() -> {
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.bodyAsJsonObject().getString("outcome")).isEqualTo("completed");
            assertThat(r.bodyAsJsonObject().containsKey("error")).isFalse();
            answered.flag();
          })));
        }));
  }
}
