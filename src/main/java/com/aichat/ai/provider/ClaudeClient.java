package com.aichat.ai.provider;

import com.aichat.ai.ProviderSettings;
import com.aichat.ai.provider.ProviderException.Kind;
import com.aichat.contract.ChatMessage.Usage;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.ext.web.codec.BodyCodec;
import io.vertx.ext.web.codec.spi.BodyStream;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Claude through the Anthropic Messages API ({@code POST {base_url}/v1/messages}, {@code stream: true})
 * on the Vert.x WebClient. The response body is piped into a {@link BodyStream} that parses the SSE
 * stream as chunks arrive ({@link SseParser}), so text reaches the worker while Claude is still
 * writing.
 *
 * <p>Timeouts ({@code claude.*_timeout_ms}): connect (the client's), first event and idle-between-events
 * and total (timers here; when one fires the attempt fails at once as retryable, and the connection is
 * reset by the next chunk or by the client's idle timeout, set to the larger of first-event and idle).
 * Errors are classified into {@link ProviderException}s whose messages are safe for users; the API key
 * is only ever put in the {@code x-api-key} header.
 */
public final class ClaudeClient implements ModelProvider {

  private static final Logger log = LoggerFactory.getLogger(ClaudeClient.class);

  /** At most this much of a non-200 body is kept to read its JSON error. */
  private static final int MAX_ERROR_BODY = 64 * 1024;

  /** One SSE event (its unfinished line plus data) may not hold more than this; Claude's are tiny. */
  static final long MAX_EVENT_SIZE = 1 << 20;

  private final Vertx vertx;
  private final ProviderSettings.Claude cfg;
  private final WebClient client;

  public ClaudeClient(Vertx vertx, ProviderSettings.Claude cfg) {
    this.vertx = vertx;
    this.cfg = cfg;
    this.client =
        WebClient.create(
            vertx,
            new WebClientOptions()
                .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, cfg.connectTimeoutMs()))
                .setKeepAlive(true)
                .setUserAgent("chat-service"));
  }

  @Override
  public ModelCall stream(ModelRequest request, Consumer<String> onText) {
    ClaudeCall call = new ClaudeCall(onText);
    client
        .postAbs(cfg.baseUrl() + "/v1/messages")
        .putHeader("x-api-key", cfg.apiKey())
        .putHeader("anthropic-version", cfg.anthropicVersion())
        .putHeader("content-type", "application/json")
        .putHeader("accept", "text/event-stream")
        .connectTimeout(cfg.connectTimeoutMs())
        .idleTimeout(Math.max(cfg.firstEventTimeoutMs(), cfg.idleTimeoutMs()))
        .as(codecOf(call))
        .sendBuffer(requestBody(request).toBuffer())
        .onComplete(call::responseEnded);
    return call;
  }

  private static BodyCodec<Void> codecOf(ClaudeCall call) {
    return () -> call.sink;
  }

  /** The Messages API request body, with a cache breakpoint on the history prefix when enabled. */
  JsonObject requestBody(ModelRequest request) {
    JsonArray messages = new JsonArray();
    for (int i = 0; i < request.turns().size(); i++) {
      ModelRequest.Turn turn = request.turns().get(i);
      JsonObject m = new JsonObject().put("role", turn.role());
      if (cfg.promptCaching() && i == request.cacheBreakpoint()) {
        m.put(
            "content",
            new JsonArray()
                .add(new JsonObject()
                    .put("type", "text")
                    .put("text", turn.text())
                    .put("cache_control", new JsonObject().put("type", "ephemeral"))));
      } else {
        m.put("content", turn.text());
      }
      messages.add(m);
    }
    JsonObject body =
        new JsonObject()
            .put("model", cfg.model())
            .put("max_tokens", cfg.maxTokens())
            .put("temperature", cfg.temperature())
            .put("messages", messages)
            .put("stream", true);
    String system = request.system();
    if (system != null && !system.isBlank()) {
      body.put("system", system);
    }
    return body;
  }

  @Override
  public Future<Void> close() {
    client.close();
    return Future.succeededFuture();
  }

  /** One attempt: the body sink, the SSE state machine and the timers. */
  private final class ClaudeCall implements ModelCall {

    private final Consumer<String> onText;
    private final Promise<ModelResult> result = Promise.promise();
    private final SseParser parser = new SseParser(this::handleEvent);
    private final Buffer rawBody = Buffer.buffer();
    private final long totalTimer;
    private long eventTimer;
    private boolean sawEvent;
    private String model = cfg.model();
    private long inputTokens;
    private long outputTokens;
    private String stopReason;
    private ProviderException streamError;

    /** The response body arrives here chunk by chunk. */
    private final BodyStream<Void> sink = new BodyStream<>() {

      @Override
      public Future<Void> write(Buffer chunk) {
        if (done()) {
          // Failing the write makes the WebClient reset the request: an aborted or timed-out attempt
          // stops reading from the connection.
          return Future.failedFuture("attempt already ended");
        }
        if (rawBody.length() < MAX_ERROR_BODY) {
          rawBody.appendBuffer(chunk.length() > MAX_ERROR_BODY ? chunk.slice(0, MAX_ERROR_BODY) : chunk);
        }
        parser.feed(chunk);
        if (parser.pendingSize() > MAX_EVENT_SIZE) {
          // a stream that never ends its event must not grow this buffer without bound
          finish(null, ProviderException.retryable("provider_bad_stream", "The AI service sent an unreadable stream."));
          return Future.failedFuture("SSE event too large");
        }
        return Future.succeededFuture();
      }

      @Override
      public Future<Void> end() {
        return Future.succeededFuture();
      }

      @Override
      public Future<Void> result() {
        return Future.succeededFuture();
      }

      @Override
      public void handle(Throwable err) {
        // the response failed while streaming: responseEnded receives the same failure
      }

      @Override
      public BodyStream<Void> exceptionHandler(Handler<Throwable> handler) {
        return this;
      }

      @Override
      public BodyStream<Void> setWriteQueueMaxSize(int maxSize) {
        return this;
      }

      @Override
      public boolean writeQueueFull() {
        return false;
      }

      @Override
      public BodyStream<Void> drainHandler(Handler<Void> handler) {
        return this;
      }
    };


    ClaudeCall(Consumer<String> onText) {
      this.onText = onText;
      this.totalTimer =
          vertx.setTimer(cfg.totalTimeoutMs(), t -> timedOut("the model took too long to answer"));
      this.eventTimer =
          vertx.setTimer(cfg.firstEventTimeoutMs(), t -> timedOut("the model did not start answering in time"));
    }

    @Override
    public Future<ModelResult> result() {
      return result.future();
    }

    @Override
    public void abort() {
      finish(null, ProviderException.aborted());
    }

    private boolean done() {
      return result.future().isComplete();
    }

    private void timedOut(String what) {
      finish(null, ProviderException.retryable("provider_timeout", "The AI service timed out: " + what + "."));
    }

    private void finish(ModelResult ok, ProviderException err) {
      vertx.cancelTimer(totalTimer);
      vertx.cancelTimer(eventTimer);
      if (ok != null) {
        result.tryComplete(ok);
      } else {
        result.tryFail(err);
      }
    }

    // ---- SSE events ----

    private void handleEvent(SseParser.Event event) {
      if (done()) {
        return;
      }
      sawEvent = true;
      vertx.cancelTimer(eventTimer);
      eventTimer = vertx.setTimer(cfg.idleTimeoutMs(), t -> timedOut("the stream stalled"));
      JsonObject data;
      try {
        data = new JsonObject(event.data());
      } catch (DecodeException e) {
        finish(null, ProviderException.retryable("provider_bad_stream", "The AI service sent an unreadable stream."));
        return;
      }
      String type = data.getString("type", event.event());
      switch (type) {
        case "message_start" -> {
          JsonObject message = data.getJsonObject("message", new JsonObject());
          model = message.getString("model", model);
          JsonObject usage = message.getJsonObject("usage", new JsonObject());
          inputTokens =
              usage.getLong("input_tokens", 0L)
                  + usage.getLong("cache_creation_input_tokens", 0L)
                  + usage.getLong("cache_read_input_tokens", 0L);
          outputTokens = usage.getLong("output_tokens", 0L);
        }
        case "content_block_start" -> {
          JsonObject block = data.getJsonObject("content_block", new JsonObject());
          String text = block.getString("text");
          if ("text".equals(block.getString("type")) && text != null && !text.isEmpty()) {
            onText.accept(text);
          }
        }
        case "content_block_delta" -> {
          JsonObject delta = data.getJsonObject("delta", new JsonObject());
          if ("text_delta".equals(delta.getString("type"))) {
            String text = delta.getString("text", "");
            if (!text.isEmpty()) {
              onText.accept(text);
            }
          }
        }
        case "message_delta" -> {
          JsonObject delta = data.getJsonObject("delta", new JsonObject());
          stopReason = delta.getString("stop_reason", stopReason);
          JsonObject usage = data.getJsonObject("usage");
          if (usage != null) {
            outputTokens = usage.getLong("output_tokens", outputTokens);
          }
        }
        case "message_stop" ->
            finish(new ModelResult(model, new Usage(inputTokens, outputTokens), stopReason), null);
        case "error" -> {
          streamError = classifyErrorType(data.getJsonObject("error", new JsonObject()), 0, -1, true);
          finish(null, streamError);
        }
        default -> {
          // ping, content_block_stop and event types added later carry nothing we need
        }
      }
    }

    // ---- end of the HTTP exchange ----

    private void responseEnded(AsyncResult<HttpResponse<Void>> ar) {
      if (done()) {
        return;
      }
      if (ar.failed()) {
        log.debug("Claude request failed: {}", ar.cause().getClass().getSimpleName());
        boolean timeout = ar.cause() instanceof java.util.concurrent.TimeoutException
            || String.valueOf(ar.cause().getMessage()).toLowerCase().contains("timeout");
        finish(null, timeout
            ? ProviderException.retryable("provider_timeout", "The AI service timed out.")
            : ProviderException.retryable("provider_unreachable", "The AI service could not be reached."));
        return;
      }
      HttpResponse<Void> response = ar.result();
      int status = response.statusCode();
      if (status != 200) {
        finish(null, classifyStatus(status, retryAfterMs(response.getHeader("retry-after"))));
        return;
      }
      finish(null, sawEvent
          ? ProviderException.retryable("provider_stream_cut", "The AI service's stream ended before the reply was complete.")
          : ProviderException.retryable("provider_bad_stream", "The AI service sent an empty stream."));
    }

    private ProviderException classifyStatus(int status, long retryAfterMs) {
      JsonObject error = new JsonObject();
      try {
        JsonObject body = new JsonObject(rawBody);
        error = body.getJsonObject("error", error);
      } catch (DecodeException | ClassCastException e) {
        // not the documented JSON error; the status alone classifies it
      }
      log.info("Claude answered HTTP {} ({})", status, error.getString("type", "no error type"));
      return classifyErrorType(error, status, retryAfterMs, false);
    }
  }

  /**
   * Classifies an Anthropic error (HTTP status and/or {@code error.type}) into a user-safe
   * {@link ProviderException}. Provider messages are not passed through: they may quote the request.
   */
  static ProviderException classifyErrorType(JsonObject error, int status, long retryAfterMs, boolean inStream) {
    String type = error.getString("type", "");
    if (status == 429 || type.equals("rate_limit_error")) {
      return new ProviderException(Kind.RETRYABLE, "provider_rate_limited",
          "The AI service is rate limiting requests; please try again shortly.", status, retryAfterMs);
    }
    if (status == 529 || type.equals("overloaded_error")) {
      return new ProviderException(Kind.RETRYABLE, "provider_overloaded",
          "The AI service is overloaded; please try again shortly.", status, retryAfterMs);
    }
    if (status >= 500 || type.equals("api_error") || type.equals("timeout_error")) {
      return new ProviderException(Kind.RETRYABLE, "provider_unavailable",
          "The AI service had an internal error.", status, retryAfterMs);
    }
    if (status == 401 || status == 403 || type.equals("authentication_error") || type.equals("permission_error")) {
      return new ProviderException(Kind.PERMANENT, "provider_auth",
          "The AI service rejected this server's credentials. Please contact the operator.", status, -1);
    }
    if (status == 413 || type.equals("request_too_large")) {
      return new ProviderException(Kind.PERMANENT, "provider_request_too_large",
          "The conversation is too large for the AI service.", status, -1);
    }
    if (status == 404 || type.equals("not_found_error")) {
      return new ProviderException(Kind.PERMANENT, "provider_not_found",
          "The configured AI model or endpoint was not found. Please contact the operator.", status, -1);
    }
    if (status == 400 || type.equals("invalid_request_error")) {
      return new ProviderException(Kind.PERMANENT, "provider_invalid_request",
          "The AI service could not process this conversation.", status, -1);
    }
    if (inStream) {
      return new ProviderException(Kind.RETRYABLE, "provider_stream_error",
          "The AI service reported an error while answering.", status, retryAfterMs);
    }
    return new ProviderException(Kind.PERMANENT, "provider_error",
        "The AI service refused the request (HTTP " + status + ").", status, -1);
  }

  /** {@code retry-after} as milliseconds: delta-seconds (possibly fractional) or an HTTP date; -1 if absent. */
  static long retryAfterMs(String header) {
    if (header == null || header.isBlank()) {
      return -1;
    }
    try {
      return Math.max(0, (long) (Double.parseDouble(header.trim()) * 1000));
    } catch (NumberFormatException e) {
      try {
        ZonedDateTime at = ZonedDateTime.parse(header.trim(), DateTimeFormatter.RFC_1123_DATE_TIME);
        return Math.max(0, Duration.between(Instant.now(), at.toInstant()).toMillis());
      } catch (RuntimeException e2) {
        return -1;
      }
    }
  }
}
