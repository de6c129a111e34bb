package com.aichat.api;

import com.aichat.testing.TestApp;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;

/** A real HTTP client for the API of a {@link TestApp}. */
final class ApiClient {

  /** Test overrides: only persistence and the API run, so replies stay pending and tests stay fast. */
  static JsonObject apiOnly() {
    return new JsonObject().put("verticles",
        new JsonObject().put("worker", 0).put("dispatcher", 0).put("gateway", 0).put("api", 1));
  }

  private final WebClient client;

  ApiClient(Vertx vertx, int port) {
    this.client = WebClient.create(vertx, new WebClientOptions()
        .setDefaultHost("127.0.0.1").setDefaultPort(port).setKeepAlive(false));
  }

  HttpRequest<Buffer> request(HttpMethod method, String path, String token) {
    HttpRequest<Buffer> req = client.request(method, path);
    if (token != null) {
      req.bearerTokenAuthentication(token);
    }
    return req;
  }

  Future<HttpResponse<Buffer>> get(String path, String token) {
    return request(HttpMethod.GET, path, token).send();
  }

  Future<HttpResponse<Buffer>> delete(String path, String token) {
    return request(HttpMethod.DELETE, path, token).send();
  }

  Future<HttpResponse<Buffer>> post(String path, String token, JsonObject body) {
    HttpRequest<Buffer> req = request(HttpMethod.POST, path, token);
    return body == null ? req.send() : req.sendJsonObject(body);
  }

  Future<HttpResponse<Buffer>> patch(String path, String token, JsonObject body) {
    return request(HttpMethod.PATCH, path, token).sendJsonObject(body);
  }

  Future<HttpResponse<Buffer>> put(String path, String token, JsonObject body) {
    return request(HttpMethod.PUT, path, token).sendJsonObject(body);
  }

  /** A raw body with an explicit content type (null: no header). */
  Future<HttpResponse<Buffer>> raw(HttpMethod method, String path, String token, String contentType, String body) {
    HttpRequest<Buffer> req = request(method, path, token);
    if (contentType != null) {
      req.putHeader("Content-Type", contentType);
    }
    return req.sendBuffer(Buffer.buffer(body));
  }

  /** Creates a session for the token's user and returns its JSON. */
  Future<JsonObject> createSession(String token, String title) {
    return post("/chats", token, new JsonObject().put("title", title)).map(r -> expect(r, 201));
  }

  /** Sends a message and returns {userMessage, reply}. */
  Future<JsonObject> send(String token, String sessionId, String content) {
    return post("/chats/" + sessionId + "/messages", token, new JsonObject().put("content", content))
        .map(r -> expect(r, 202));
  }

  static JsonObject expect(HttpResponse<Buffer> r, int status) {
    if (r.statusCode() != status) {
      throw new AssertionError("expected HTTP " + status + " but got " + r.statusCode() + ": " + r.bodyAsString());
    }
    return r.body() == null || r.body().length() == 0 ? new JsonObject() : r.bodyAsJsonObject();
  }

  /** The {@code error} object of an error response. */
  static JsonObject error(HttpResponse<Buffer> r) {
    return r.bodyAsJsonObject().getJsonObject("error");
  }
}
