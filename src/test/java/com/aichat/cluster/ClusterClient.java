package com.aichat.cluster;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.time.Duration;

/** The REST calls multi-JVM tests make against a {@link ClusterHarness.Node}'s API, as one user. */
public final class ClusterClient {

  private final WebClient http;
  private final String token;

  public ClusterClient(WebClient http, String token) {
    this.http = http;
    this.token = token;
  }

  public String token() {
    return token;
  }

  /** Creates a session; the id. */
  public Future<String> createSession(ClusterHarness.Node node, String title) {
    return http.post(node.httpPort(), "127.0.0.1", "/chats")
        .bearerTokenAuthentication(token)
        .sendJsonObject(new JsonObject().put("title", title))
        .compose(r -> r.statusCode() == 201
            ? Future.succeededFuture(r.bodyAsJsonObject().getString("id"))
            : Future.failedFuture("create session: " + r.statusCode() + " " + r.bodyAsString()));
  }

  /** Sends a message; the stored reply placeholder. */
  public Future<JsonObject> send(ClusterHarness.Node node, String sessionId, String content) {
    return http.post(node.httpPort(), "127.0.0.1", "/chats/" + sessionId + "/messages")
        .bearerTokenAuthentication(token)
        .sendJsonObject(new JsonObject().put("content", content))
        .compose(r -> r.statusCode() == 202
            ? Future.succeededFuture(r.bodyAsJsonObject().getJsonObject("reply"))
            : Future.failedFuture("send: " + r.statusCode() + " " + r.bodyAsString()));
  }

  public Future<JsonObject> get(ClusterHarness.Node node, String sessionId, String messageId) {
    return http.get(node.httpPort(), "127.0.0.1", "/chats/" + sessionId + "/messages/" + messageId)
        .bearerTokenAuthentication(token)
        .send()
        .compose(r -> r.statusCode() == 200
            ? Future.succeededFuture(r.bodyAsJsonObject())
            : Future.failedFuture("get message: " + r.statusCode() + " " + r.bodyAsString()));
  }

  /** Polls the reply until its status is final, or gives it as it is after {@code timeout}. */
  public Future<JsonObject> awaitFinal(ClusterHarness.Node node, String sessionId, String messageId, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    return poll(node, sessionId, messageId, deadline);
  }

  private Future<JsonObject> poll(ClusterHarness.Node node, String sessionId, String messageId, long deadline) {
    return get(node, sessionId, messageId).compose(m -> {
      String status = m.getString("status");
      boolean done = status.equals("completed") || status.equals("failed") || status.equals("cancelled");
      if (done || System.nanoTime() > deadline) {
        return Future.succeededFuture(m);
      }
      Promise<JsonObject> next = Promise.promise();
      Vertx.currentContext().owner().setTimer(200, t -> poll(node, sessionId, messageId, deadline).onComplete(next));
      return next.future();
    });
  }
}
