package com.aichat.ai;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.codec.BodyCodec;
import java.util.function.Predicate;

/** One user's real HTTP calls to the API of a {@link GenerationHarness} app, JSON bodies both ways. */
final class UserHttp {

  /** How often {@link #pollUntil} reads. */
  static final long POLL_MS = 20;

  private final Vertx vertx;
  private final WebClient client;
  private final int port;
  private final String token;

  UserHttp(Vertx vertx, GenerationHarness h, String token) {
    this.vertx = vertx;
    this.client = WebClient.create(vertx);
    this.port = h.app().httpPort();
    this.token = token;
  }

  Future<HttpResponse<JsonObject>> call(HttpMethod method, String path, JsonObject body) {
    var req = client.request(method, port, "127.0.0.1", path).bearerTokenAuthentication(token)
        .as(BodyCodec.jsonObject());
    return body == null ? req.send() : req.sendJsonObject(body);
  }

  Future<HttpResponse<JsonObject>> post(String path, JsonObject body) {
    return call(HttpMethod.POST, path, body);
  }

  Future<HttpResponse<JsonObject>> get(String path) {
    return call(HttpMethod.GET, path, null);
  }

  /** GETs {@code path} every {@value #POLL_MS} ms until it answers 200 with a body that matches. */
  Future<JsonObject> pollUntil(String path, Predicate<JsonObject> done) {
    Promise<JsonObject> p = Promise.promise();
    vertx.setPeriodic(POLL_MS, t -> get(path).onSuccess(r -> {
      if (r.statusCode() == 200 && done.test(r.body())) {
        vertx.cancelTimer(t);
        p.tryComplete(r.body());
      }
    }));
    return p.future();
  }

  void close() {
    client.close();
  }
}
