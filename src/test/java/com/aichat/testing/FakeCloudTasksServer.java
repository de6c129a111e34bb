package com.aichat.testing;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.handler.BodyHandler;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A local fake of the Cloud Tasks v2 REST API, as the real google-cloud-tasks client calls it over its
 * HTTP/JSON transport ({@code HttpJsonCloudTasksStub}):
 *
 * <ul>
 *   <li>{@code POST /v2/{parent=projects/*&#47;locations/*&#47;queues/*}/tasks} (CreateTask): body
 *       {@code {"task": Task, "responseView"?}}, answer the stored {@code Task} JSON; a taken name answers
 *       HTTP 409 with the {@code google.rpc.Status} error JSON {@code {"error": {"code": 409, "message",
 *       "status": "ALREADY_EXISTS"}}}, an injected outage HTTP 503 {@code UNAVAILABLE};
 *   <li>{@code GET /v2/{name=projects/*&#47;locations/*&#47;queues/*&#47;tasks/*}} (GetTask);
 *   <li>{@code GET /oauth2/v3/certs}: the JWKS of the {@link TestOidcIssuer} that signs the push tokens.
 * </ul>
 *
 * <p>Each created task is then pushed like Cloud Tasks pushes an HTTP target: the task's method, URL,
 * headers and body, plus {@code X-CloudTasks-QueueName}, {@code -TaskName}, {@code -TaskRetryCount},
 * {@code -TaskExecutionCount}, {@code -TaskETA}, {@code User-Agent: Google-Cloud-Tasks} and
 * {@code Authorization: Bearer <OIDC token>} for the task's service account and audience (the URL when
 * no audience is set). A non-2xx answer or a failed request is retried with a short backoff, up to
 * {@link #MAX_PUSH_ATTEMPTS}; a 2xx ends the task.
 */
public final class FakeCloudTasksServer {

  private static final Logger log = LoggerFactory.getLogger(FakeCloudTasksServer.class);

  public static final int MAX_PUSH_ATTEMPTS = 20;
  public static final String JWKS_PATH = "/oauth2/v3/certs";

  /** One task as created, with every push attempt's HTTP status (0: no answer). */
  public record FakeTask(
      String name,
      String queue,
      JsonObject createRequest,
      String url,
      String httpMethod,
      Map<String, String> headers,
      byte[] body,
      String oidcEmail,
      String oidcAudience,
      String dispatchDeadline,
      List<Integer> pushStatuses) {

    public String bodyText() {
      return new String(body, java.nio.charset.StandardCharsets.UTF_8);
    }

    public boolean delivered() {
      return pushStatuses.stream().anyMatch(s -> s >= 200 && s < 300);
    }
  }

  private final Vertx vertx;
  private final TestOidcIssuer issuer;
  private final WebClient client;
  private final Map<String, FakeTask> tasks = new ConcurrentHashMap<>();
  private final List<String> order = new CopyOnWriteArrayList<>();
  private final List<JsonObject> createRequests = new CopyOnWriteArrayList<>();
  private final AtomicInteger failNextCreates = new AtomicInteger();
  private final AtomicInteger taskCounter = new AtomicInteger();
  private volatile long unavailableUntil;
  private volatile boolean pushEnabled = true;
  private volatile boolean closed;
  private HttpServer server;

  public FakeCloudTasksServer(Vertx vertx, TestOidcIssuer issuer) {
    this.vertx = vertx;
    this.issuer = issuer;
    this.client = WebClient.create(vertx);
  }

  public Future<FakeCloudTasksServer> start() {
    Router router = Router.router(vertx);
    router.route().handler(BodyHandler.create());
    router.post("/v2/projects/:project/locations/:location/queues/:queue/tasks").handler(this::createTask);
    router.get("/v2/projects/:project/locations/:location/queues/:queue/tasks/:task").handler(this::getTask);
    router.get(JWKS_PATH).handler(ctx -> ctx.json(issuer.jwks()));
    return vertx
        .createHttpServer()
        .requestHandler(router)
        .listen(0, "127.0.0.1")
        .map(s -> {
          server = s;
          return this;
        });
  }

  public Future<Void> close() {
    closed = true;
    client.close();
    return server == null ? Future.succeededFuture() : server.close();
  }

  /** The API endpoint to configure as {@code cloud_tasks.endpoint}. */
  public String endpoint() {
    return "http://127.0.0.1:" + server.actualPort();
  }

  /** The JWKS URL to configure as {@code cloud_tasks.oidc_jwks_url}. */
  public String jwksUrl() {
    return endpoint() + JWKS_PATH;
  }

  /** The next {@code n} CreateTask calls answer 503 UNAVAILABLE. */
  public void failNextCreates(int n) {
    failNextCreates.set(n);
  }

  /** Every CreateTask answers 503 UNAVAILABLE for the next {@code millis}. */
  public void unavailableFor(long millis) {
    unavailableUntil = System.currentTimeMillis() + millis;
  }

  /** Whether created tasks are pushed (default true). */
  public void pushEnabled(boolean enabled) {
    pushEnabled = enabled;
  }

  /** Every CreateTask request body received, including refused ones. */
  public List<JsonObject> createRequests() {
    return List.copyOf(createRequests);
  }

  /** The tasks created, oldest first. */
  public List<FakeTask> tasks() {
    List<FakeTask> out = new ArrayList<>();
    for (String n : order) {
      out.add(tasks.get(n));
    }
    return out;
  }

  /** Delivers a stored task once more, as Cloud Tasks' at-least-once delivery may; the push status. */
  public Future<Integer> pushAgain(String taskName) {
    FakeTask t = tasks.get(taskName);
    return pushOnce(t, t.pushStatuses().size());
  }

  private void createTask(RoutingContext ctx) {
    String parent = "projects/" + ctx.pathParam("project") + "/locations/" + ctx.pathParam("location")
        + "/queues/" + ctx.pathParam("queue");
    JsonObject req;
    try {
      req = ctx.body().asJsonObject();
    } catch (DecodeException e) {
      req = null;
    }
    createRequests.add(req == null ? new JsonObject() : req);
    if (failNextCreates.getAndUpdate(n -> Math.max(0, n - 1)) > 0
        || System.currentTimeMillis() < unavailableUntil) {
      rpcError(ctx, 503, "UNAVAILABLE", "The service is currently unavailable.");
      return;
    }
    JsonObject task = req == null ? null : req.getJsonObject("task");
    JsonObject http = task == null ? null : task.getJsonObject("httpRequest");
    if (http == null || http.getString("url") == null) {
      rpcError(ctx, 400, "INVALID_ARGUMENT", "Request contains an invalid argument.");
      return;
    }
    String name = task.getString("name");
    if (name == null || name.isEmpty()) {
      name = parent + "/tasks/" + Long.toUnsignedString(0x9e3779b97f4a7c15L * taskCounter.incrementAndGet());
    } else if (!name.startsWith(parent + "/tasks/") || !name.substring(parent.length() + 7).matches("[A-Za-z0-9_-]{1,500}")) {
      rpcError(ctx, 400, "INVALID_ARGUMENT", "Invalid resource field value in the request.");
      return;
    }
    JsonObject oidc = http.getJsonObject("oidcToken", new JsonObject());
    JsonObject headers = http.getJsonObject("headers", new JsonObject());
    Map<String, String> h = new ConcurrentHashMap<>();
    headers.forEach(e -> h.put(e.getKey(), String.valueOf(e.getValue())));
    FakeTask stored = new FakeTask(
        name,
        parent,
        req,
        http.getString("url"),
        httpMethod(http.getValue("httpMethod")),
        Map.copyOf(h),
        Base64.getDecoder().decode(http.getString("body", "")),
        oidc.getString("serviceAccountEmail"),
        oidc.getString("audience"),
        task.getString("dispatchDeadline", "600s"),
        new CopyOnWriteArrayList<>());
    if (tasks.putIfAbsent(name, stored) != null) {
      rpcError(ctx, 409, "ALREADY_EXISTS", "Requested entity already exists");
      return;
    }
    order.add(name);
    Instant now = Instant.now();
    JsonObject answer = taskJson(stored, now);
    ctx.json(answer);
    log.info("fake Cloud Tasks created {}", name);
    if (pushEnabled) {
      vertx.setTimer(10, id -> pushUntilDone(stored, 0));
    }
  }

  private void getTask(RoutingContext ctx) {
    String name = "projects/" + ctx.pathParam("project") + "/locations/" + ctx.pathParam("location")
        + "/queues/" + ctx.pathParam("queue") + "/tasks/" + ctx.pathParam("task");
    FakeTask t = tasks.get(name);
    if (t == null || t.delivered()) {
      rpcError(ctx, 404, "NOT_FOUND", "The task no longer exists, though a task with this name existed recently.");
      return;
    }
    ctx.json(taskJson(t, Instant.now()));
  }

  private static JsonObject taskJson(FakeTask t, Instant now) {
    JsonObject http = new JsonObject()
        .put("url", t.url())
        .put("httpMethod", t.httpMethod())
        .put("headers", new JsonObject(Map.copyOf(t.headers())))
        .put("oidcToken", new JsonObject()
            .put("serviceAccountEmail", t.oidcEmail())
            .put("audience", t.oidcAudience() == null ? t.url() : t.oidcAudience()));
    return new JsonObject()
        .put("name", t.name())
        .put("httpRequest", http)
        .put("scheduleTime", now.toString())
        .put("createTime", now.toString())
        .put("dispatchDeadline", t.dispatchDeadline())
        .put("dispatchCount", t.pushStatuses().size())
        .put("view", "BASIC");
  }

  private static String httpMethod(Object v) {
    // With "$alt=json;enum-encoding=int" the client sends enum numbers; names are accepted too.
    if (v instanceof Number n) {
      return switch (n.intValue()) {
        case 1 -> "POST";
        case 2 -> "GET";
        case 3 -> "HEAD";
        case 4 -> "PUT";
        case 5 -> "DELETE";
        case 6 -> "PATCH";
        case 7 -> "OPTIONS";
        default -> "POST";
      };
    }
    return v == null ? "POST" : v.toString();
  }

  private void pushUntilDone(FakeTask t, int attempt) {
    if (closed) {
      return;
    }
    pushOnce(t, attempt).onComplete(ar -> {
      int status = ar.succeeded() ? ar.result() : 0;
      if (status >= 200 && status < 300) {
        return;
      }
      if (attempt + 1 >= MAX_PUSH_ATTEMPTS) {
        log.warn("fake Cloud Tasks gives up on {} after {} attempts", t.name(), attempt + 1);
        return;
      }
      long backoff = Math.min(1_000, 100L << Math.min(attempt, 4));
      vertx.setTimer(backoff, id -> pushUntilDone(t, attempt + 1));
    });
  }

  private Future<Integer> pushOnce(FakeTask t, int attempt) {
    long executions = t.pushStatuses().stream().filter(s -> s > 0).count();
    String audience = t.oidcAudience() == null || t.oidcAudience().isEmpty() ? t.url() : t.oidcAudience();
    HttpRequest<Buffer> req =
        client
            .requestAbs(io.vertx.core.http.HttpMethod.valueOf(t.httpMethod()), t.url())
            .timeout(deadlineMillis(t.dispatchDeadline()));
    t.headers().forEach(req::putHeader);
    req.putHeader("X-CloudTasks-QueueName", t.queue().substring(t.queue().lastIndexOf('/') + 1))
        .putHeader("X-CloudTasks-TaskName", t.name().substring(t.name().lastIndexOf('/') + 1))
        .putHeader("X-CloudTasks-TaskRetryCount", String.valueOf(attempt))
        .putHeader("X-CloudTasks-TaskExecutionCount", String.valueOf(executions))
        .putHeader("X-CloudTasks-TaskETA", String.valueOf(Instant.now().getEpochSecond()))
        .putHeader("User-Agent", "Google-Cloud-Tasks")
        .putHeader("Authorization", "Bearer " + issuer.token(t.oidcEmail(), audience));
    return req.sendBuffer(Buffer.buffer(t.body()))
        .map(resp -> resp.statusCode())
        .otherwise(err -> 0)
        .onSuccess(status -> {
          t.pushStatuses().add(status);
          log.info("fake Cloud Tasks pushed {} (attempt {}): HTTP {}", t.name(), attempt, status);
        });
  }

  private static long deadlineMillis(String duration) {
    return (long) (Double.parseDouble(duration.replace("s", "")) * 1000);
  }

  private static void rpcError(RoutingContext ctx, int http, String status, String message) {
    ctx.response()
        .setStatusCode(http)
        .putHeader("Content-Type", "application/json; charset=UTF-8")
        .end(new JsonObject()
            .put("error", new JsonObject().put("code", http).put("message", message).put("status", status))
            .encodePrettily());
  }
}
