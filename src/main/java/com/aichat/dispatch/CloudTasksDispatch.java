package com.aichat.dispatch;

import com.google.api.gax.core.NoCredentialsProvider;
import com.google.api.gax.rpc.AlreadyExistsException;
import com.google.api.gax.rpc.ApiException;
import com.google.api.gax.rpc.StatusCode;
import com.google.cloud.tasks.v2.CloudTasksClient;
import com.google.cloud.tasks.v2.HttpMethod;
import com.google.cloud.tasks.v2.HttpRequest;
import com.google.cloud.tasks.v2.OidcToken;
import com.google.cloud.tasks.v2.QueueName;
import com.google.cloud.tasks.v2.Task;
import com.google.cloud.tasks.v2.TaskName;
import com.google.protobuf.ByteString;
import com.google.protobuf.Duration;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code cloud-tasks} dispatch mode: each dispatch creates a Cloud Tasks HTTP task that POSTs
 * {@code {"messageId": ...}} to {@code <node.public_base_url>/internal/chat-ai-worker} with an OIDC
 * token for {@code cloud_tasks.service_account_email} and {@code cloud_tasks.audience}, and a dispatch
 * deadline of {@code cloud_tasks.dispatch_deadline_seconds}.
 *
 * <p><b>Client.</b> The google-cloud-tasks v2 client on its HTTP/JSON transport. Credentials are
 * Application Default Credentials, except when {@code cloud_tasks.endpoint} is a plaintext
 * {@code http://} URL: that is only ever a local emulator or test fake, which takes no credentials
 * (and Google credentials must not travel in clear text), so the client then uses none. Every client
 * call is blocking and runs on a dedicated worker pool ({@value #EXECUTOR_NAME}), never on an event loop.
 *
 * <p><b>Task names and deduplication.</b> A task is named
 * {@code <hash>-<messageId>-<round>}: {@code hash} is 8 hex digits of the message id's SHA-256,
 * because Cloud Tasks documents that sequential name prefixes (ObjectIds start with a timestamp) raise
 * latency and error rates; {@code round} is the dispatch round, {@code now / max(1 s,
 * dispatch.pending_grace_ms)}. Within one call every CreateTask retry uses the same name, so a retry of
 * a request whose response was lost is deduplicated by Cloud Tasks ({@code ALREADY_EXISTS}, which the
 * HTTP/JSON transport reports as HTTP 409, counts as success). Dispatches of the same reply in the same
 * round (two sweepers, a resent dispatch request) also collapse into one task. The sweep picks a reply
 * only once it has been untouched for longer than the grace period, so its first re-dispatch lands in a
 * later round than the original dispatch, and while the reply stays untouched each further round gets
 * one fresh name: a task that was never created, or that Cloud Tasks holds but never delivers, can
 * never block the reply behind a tombstoned name (Cloud Tasks keeps names of deleted or executed tasks
 * reserved for up to days). Extra tasks are harmless: the claim lets exactly one do the work, and the
 * others end with a 2xx once the reply is final.
 *
 * <p><b>Failures.</b> A failed CreateTask is retried {@value #CREATE_ATTEMPTS} times in all with
 * exponential backoff from {@value #BACKOFF_INITIAL_MS} ms; if all fail, the returned Future fails, the
 * reply stays {@code pending}, and the dispatcher's sweep dispatches it again after the grace period.
 */
public final class CloudTasksDispatch implements Dispatch {

  private static final Logger log = LoggerFactory.getLogger(CloudTasksDispatch.class);

  static final String EXECUTOR_NAME = "chat-cloud-tasks";
  static final int EXECUTOR_THREADS = 4;
  /** CreateTask calls per dispatch, the first included. */
  public static final int CREATE_ATTEMPTS = 4;
  static final long BACKOFF_INITIAL_MS = 250;
  static final long BACKOFF_MAX_MS = 4_000;

  /** Codes that no retry can fix (bad request, missing queue, missing permission). */
  private static final Set<StatusCode.Code> PERMANENT =
      Set.of(
          StatusCode.Code.INVALID_ARGUMENT,
          StatusCode.Code.NOT_FOUND,
          StatusCode.Code.PERMISSION_DENIED,
          StatusCode.Code.UNAUTHENTICATED,
          StatusCode.Code.FAILED_PRECONDITION);

  private final Vertx vertx;
  private final WorkerExecutor executor;
  private final CloudTasksClient client;
  private final CloudTasksSettings settings;
  private final QueueName queue;
  private final String workerUrl;
  private final long roundMillis;

  private CloudTasksDispatch(
      Vertx vertx,
      WorkerExecutor executor,
      CloudTasksClient client,
      CloudTasksSettings settings,
      String workerUrl,
      long roundMillis) {
    this.vertx = vertx;
    this.executor = executor;
    this.client = client;
    this.settings = settings;
    this.queue = QueueName.of(settings.project(), settings.location(), settings.queue());
    this.workerUrl = workerUrl;
    this.roundMillis = roundMillis;
  }

  /** Creates the client (blocking: it resolves credentials) on the dedicated worker pool. */
  public static Future<CloudTasksDispatch> create(
      Vertx vertx, CloudTasksSettings settings, DispatchSettings dispatch) {
    String workerUrl = settings.workerUrl();
    if (!workerUrl.startsWith("https://") && !plaintextEndpoint(settings.endpoint())) {
      log.warn("node.public_base_url is not https ({}); Cloud Tasks will push OIDC tokens over it", workerUrl);
    }
    WorkerExecutor executor =
        vertx.createSharedWorkerExecutor(EXECUTOR_NAME, EXECUTOR_THREADS, 2, TimeUnit.MINUTES);
    long roundMillis = Math.max(1_000, dispatch.pendingGraceMs());
    return executor
        .executeBlocking(() -> CloudTasksClient.create(clientSettings(settings)), false)
        .onSuccess(c -> log.info(
            "Cloud Tasks dispatch ready: queue {} via {}, target {}",
            QueueName.of(settings.project(), settings.location(), settings.queue()),
            settings.endpoint() == null ? "Google's endpoint" : settings.endpoint(),
            workerUrl))
        .onFailure(err -> executor.close())
        .map(c -> new CloudTasksDispatch(vertx, executor, c, settings, workerUrl, roundMillis));
  }

  /** The client's settings: HTTP/JSON transport, endpoint override, credentials (see class doc). */
  static com.google.cloud.tasks.v2.CloudTasksSettings clientSettings(CloudTasksSettings s)
      throws IOException {
    com.google.cloud.tasks.v2.CloudTasksSettings.Builder b =
        com.google.cloud.tasks.v2.CloudTasksSettings.newHttpJsonBuilder();
    if (s.endpoint() != null) {
      b.setEndpoint(s.endpoint());
    }
    if (plaintextEndpoint(s.endpoint())) {
      b.setCredentialsProvider(NoCredentialsProvider.create());
    }
    return b.build();
  }

  static boolean plaintextEndpoint(String endpoint) {
    return endpoint != null && endpoint.startsWith("http://");
  }

  /** Creates the task for one pending reply; succeeds once Cloud Tasks holds it (new or existing). */
  @Override
  public Future<Void> dispatch(String messageId) {
    long round = System.currentTimeMillis() / roundMillis;
    Task task = buildTask(messageId, round);
    return createWithRetry(task, messageId, 1);
  }

  /** The task id for a reply in a dispatch round: {@code <8 hex of sha256(id)>-<id>-<round>}. */
  static String taskId(String messageId, long round) {
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(messageId.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(h, 0, 4) + "-" + messageId + "-" + round;
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  Task buildTask(String messageId, long round) {
    String name =
        TaskName.of(settings.project(), settings.location(), settings.queue(), taskId(messageId, round))
            .toString();
    HttpRequest request =
        HttpRequest.newBuilder()
            .setUrl(workerUrl)
            .setHttpMethod(HttpMethod.POST)
            .putHeaders("Content-Type", "application/json")
            .setBody(ByteString.copyFromUtf8(new JsonObject().put("messageId", messageId).encode()))
            .setOidcToken(
                OidcToken.newBuilder()
                    .setServiceAccountEmail(settings.serviceAccountEmail())
                    .setAudience(settings.audience()))
            .build();
    return Task.newBuilder()
        .setName(name)
        .setHttpRequest(request)
        .setDispatchDeadline(Duration.newBuilder().setSeconds(settings.dispatchDeadlineSeconds()))
        .build();
  }

  private Future<Void> createWithRetry(Task task, String messageId, int attempt) {
    return createTask(task)
        .recover(err -> {
          if (attempt >= CREATE_ATTEMPTS || !retryable(err)) {
            log.warn(
                "CreateTask for reply {} failed after {} attempt(s), the sweep will dispatch it again: {}",
                messageId, attempt, err.getMessage());
            return Future.failedFuture(err);
          }
          long delay = Math.min(BACKOFF_MAX_MS, BACKOFF_INITIAL_MS << (attempt - 1));
          log.info("CreateTask for reply {} failed (attempt {}), retrying in {} ms: {}",
              messageId, attempt, delay, err.getMessage());
          return vertx.timer(delay).compose(v -> createWithRetry(task, messageId, attempt + 1));
        });
  }

  private Future<Void> createTask(Task task) {
    return executor
        .executeBlocking(() -> {
          try {
            client.createTask(queue, task);
            return true;
          } catch (AlreadyExistsException e) {
            return false;
          } catch (ApiException e) {
            // Over HTTP/JSON, Cloud Tasks' ALREADY_EXISTS arrives as HTTP 409, which gax maps to ABORTED.
            if (Integer.valueOf(409).equals(e.getStatusCode().getTransportCode())) {
              return false;
            }
            throw e;
          }
        }, false)
        .onSuccess(created -> log.debug(created ? "created task {}" : "task {} already exists", task.getName()))
        .mapEmpty();
  }

  private static boolean retryable(Throwable err) {
    return !(err instanceof ApiException api) || !PERMANENT.contains(api.getStatusCode().getCode());
  }

  /** Shuts the client down (blocking, on the worker pool) and releases the pool. */
  @Override
  public Future<Void> close() {
    return executor
        .executeBlocking(() -> {
          client.shutdown();
          return client.awaitTermination(5, TimeUnit.SECONDS);
        }, false)
        .<Void>mapEmpty()
        .eventually(executor::close);
  }
}
