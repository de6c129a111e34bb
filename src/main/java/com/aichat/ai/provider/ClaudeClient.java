package com.aichat.ai.provider;

import com.aichat.ai.provider.ProviderException.Kind;
import com.aichat.contract.ChatMessage.Usage;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ConnectionPoolTooBusyException;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Claude through the Anthropic Messages API ({@code POST {base_url}/v1/messages}, {@code stream: true})
 * on a Vert.x HTTP client. Response chunks go to the SSE parser ({@link SseParser}) as they arrive, so
 * text reaches the worker while Claude is still writing.
 *
 * <p>Connections. One pool per worker instance, sized by {@code claude.max_connections} (by default the
 * instance's {@code worker.max_concurrent}, so it never caps the worker below its own limit), with a
 * wait queue as long as the instance's job limit. An {@code https} base URL offers HTTP/2 by ALPN
 * ({@code claude.http2}) and falls back to HTTP/1.1; an {@code http} one speaks HTTP/1.1 only, no h2c.
 * The core {@code HttpClient} is used rather than the WebClient because it tells when a connection is
 * acquired ({@link ModelCall#onWire()}) and lets an ended attempt reset its stream at once, which gives
 * the connection back to the pool.
 *
 * <p>Timeouts ({@code claude.*_timeout_ms}): waiting for a connection ({@code connection_wait}, which
 * includes the TCP connect, itself bounded by {@code connect}); then, from the moment the request is on
 * the wire, first event, idle between events, and total (timers here; when one fires the attempt fails
 * at once as retryable and its stream is reset). Errors are classified into {@link ProviderException}s
 * whose messages are safe for users; the API key is only ever put in the {@code x-api-key} header.
 */
public final class ClaudeClient implements ModelProvider {

  private static final Logger log = LoggerFactory.getLogger(ClaudeClient.class);

  /** At most this much of a non-200 body is kept to read its JSON error. */
  private static final int MAX_ERROR_BODY = 64 * 1024;

  /** One SSE event (its unfinished line plus data) may not hold more than this; Claude's are tiny. */
  static final long MAX_EVENT_SIZE = 1 << 20;

  private final Vertx vertx;
  private final ProviderSettings.Claude cfg;
  private final HttpClientAgent client;
  private final String messagesUrl;

  public ClaudeClient(Vertx vertx, ProviderSettings.Claude cfg) {
    this(vertx, cfg, options -> {});
  }

  /** With a last say on the client options (tests: trust a self-signed fake). */
  ClaudeClient(Vertx vertx, ProviderSettings.Claude cfg, Consumer<HttpClientOptions> customizer) {
    this.vertx = vertx;
    this.cfg = cfg;
    this.messagesUrl = cfg.baseUrl() + "/v1/messages";
    HttpClientOptions options = clientOptions(cfg);
    customizer.accept(options);
    this.client = vertx.httpClientBuilder().with(options).with(poolOptions(cfg)).build();
  }

  /** HTTP/2 by ALPN with HTTP/1.1 fallback for https (when enabled); plain HTTP/1.1 otherwise, never h2c. */
  static HttpClientOptions clientOptions(ProviderSettings.Claude cfg) {
    boolean https = "https".equalsIgnoreCase(URI.create(cfg.baseUrl()).getScheme());
    HttpClientOptions options = new HttpClientOptions()
        .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, cfg.connectTimeoutMs()))
        .setKeepAlive(true)
        .setHttp2ClearTextUpgrade(false)
        .setSsl(https);
    if (https && cfg.http2()) {
      options.setUseAlpn(true)
          .setProtocolVersion(HttpVersion.HTTP_2)
          .setAlpnVersions(List.of(HttpVersion.HTTP_2, HttpVersion.HTTP_1_1));
    } else {
      options.setProtocolVersion(HttpVersion.HTTP_1_1);
    }
    return options;
  }

  /** {@code claude.max_connections} for either protocol; the wait queue fits every job of the instance. */
  static PoolOptions poolOptions(ProviderSettings.Claude cfg) {
    return new PoolOptions()
        .setHttp1MaxSize(cfg.maxConnections())
        .setHttp2MaxSize(cfg.maxConnections())
        .setMaxWaitQueueSize(cfg.maxWaitQueue());
  }

  @Override
  public ModelCall stream(ModelRequest request, Consumer<String> onText) {
    ClaudeCall call = new ClaudeCall(onText, requestBody(request).toBuffer());
    client
        .request(new RequestOptions()
            .setMethod(HttpMethod.POST)
            .setAbsoluteURI(messagesUrl)
            // on a pooled client this bounds the wait for a connection (queue + connect), nothing else
            .setConnectTimeout(cfg.connectionWaitTimeoutMs())
            .setIdleTimeout(Math.max(cfg.firstEventTimeoutMs(), cfg.idleTimeoutMs())))
        .onComplete(call::connectionObtained);
    return call;
  }

  /** The Messages API request body, with a cache breakpoint on the history prefix when enabled. */
  JsonObject requestBody(ModelRequest request) {
    JsonObject body =
        new JsonObject()
            .put("model", request.model() != null ? request.model() : cfg.model())
            .put("max_tokens", request.maxTokens() > 0 ? request.maxTokens() : cfg.maxTokens())
            .put("temperature", cfg.temperature())
            .put("messages", messages(request))
            .put("stream", true);
    putSystem(body, request);
    return body;
  }

  /** The {@code count_tokens} body: the same model, system and messages as {@link #requestBody}. */
  JsonObject countBody(ModelRequest request) {
    JsonObject body = new JsonObject()
        .put("model", request.model() != null ? request.model() : cfg.model())
        .put("messages", messages(request));
    putSystem(body, request);
    return body;
  }

  private JsonArray messages(ModelRequest request) {
    JsonArray messages = new JsonArray();
    for (int i = 0; i < request.turns().size(); i++) {
      ModelRequest.Turn turn = request.turns().get(i);
      JsonObject m = new JsonObject().put("role", turn.role());
      if (cfg.promptCaching() && i == request.cacheBreakpoint()) {
        m.put("content", new JsonArray().add(cachedText(turn.text())));
      } else {
        m.put("content", turn.text());
      }
      messages.add(m);
    }
    return messages;
  }

  /**
   * The system prompt as a string; with a summary, as blocks: the prompt, then the summary with its
   * own breakpoint, so that prefix stays cached until the summary's version changes (docs/context.md).
   */
  private void putSystem(JsonObject body, ModelRequest request) {
    String system = request.system();
    boolean hasSystem = system != null && !system.isBlank();
    if (request.summaryBlock() == null) {
      if (hasSystem) {
        body.put("system", system);
      }
      return;
    }
    JsonArray blocks = new JsonArray();
    if (hasSystem) {
      blocks.add(new JsonObject().put("type", "text").put("text", system));
    }
    blocks.add(cfg.promptCaching()
        ? cachedText(request.summaryBlock())
        : new JsonObject().put("type", "text").put("text", request.summaryBlock()));
    body.put("system", blocks);
  }

  private static JsonObject cachedText(String text) {
    return new JsonObject()
        .put("type", "text")
        .put("text", text)
        .put("cache_control", new JsonObject().put("type", "ephemeral"));
  }

  /**
   * {@code POST {base_url}/v1/messages/count_tokens} with the request's model, system and messages;
   * succeeds with its {@code input_tokens}. Bounded by {@code claude.first_event_timeout_ms}.
   */
  @Override
  public Future<Long> countTokens(ModelRequest request) {
    Buffer payload = countBody(request).toBuffer();
    return client
        .request(new RequestOptions()
            .setMethod(HttpMethod.POST)
            .setAbsoluteURI(cfg.baseUrl() + "/v1/messages/count_tokens")
            .setConnectTimeout(cfg.connectionWaitTimeoutMs())
            .setTimeout(cfg.firstEventTimeoutMs()))
        .compose(req -> req
            .putHeader("x-api-key", cfg.apiKey())
            .putHeader("anthropic-version", cfg.anthropicVersion())
            .putHeader("content-type", "application/json")
            .putHeader("user-agent", "chat-service")
            .send(payload))
        .compose(res -> res.body().compose(b -> {
          if (res.statusCode() != 200) {
            return Future.failedFuture(new IllegalStateException("count_tokens answered HTTP " + res.statusCode()));
          }
          Long tokens = b.toJsonObject().getLong("input_tokens");
          return tokens == null
              ? Future.failedFuture(new IllegalStateException("count_tokens answered without input_tokens"))
              : Future.succeededFuture(tokens);
        }));
  }

  @Override
  public Future<Void> close() {
    return client.close();
  }

  /** One attempt: waiting for a connection, then the response, the SSE state machine and the timers. */
  private final class ClaudeCall implements ModelCall {

    private final Consumer<String> onText;
    private final Buffer body;
    private final long waitStartedNs = System.nanoTime();
    private final Promise<ModelResult> result = Promise.promise();
    private final Promise<Long> onWire = Promise.promise();
    private final SseParser parser = new SseParser(this::handleEvent);
    /** The request once a connection is held; reset when the attempt ends before its response does. */
    private HttpClientRequest request;
    private boolean responseEnded;
    /** Only a non-200 response's body is kept (bounded), to read its JSON error. */
    private Buffer errorBody;
    private long totalTimer = -1;
    /** The first-event timer, then the idle watchdog; one timer per idle period, not one per event. */
    private long eventTimer = -1;
    private boolean sawEvent;
    private long lastEventNs;
    private String model = cfg.model();
    private long inputTokens;
    private long outputTokens;
    private long cacheReadTokens;
    private long cacheWriteTokens;
    private String stopReason;

    ClaudeCall(Consumer<String> onText, Buffer body) {
      this.onText = onText;
      this.body = body;
    }

    @Override
    public Future<ModelResult> result() {
      return result.future();
    }

    @Override
    public Future<Long> onWire() {
      return onWire.future();
    }

    @Override
    public void abort() {
      finish(null, ProviderException.aborted());
    }

    private boolean done() {
      return result.future().isComplete();
    }

    // ---- connection, then request ----

    private void connectionObtained(AsyncResult<HttpClientRequest> ar) {
      long waitedMs = (System.nanoTime() - waitStartedNs) / 1_000_000;
      if (ar.failed()) {
        finish(null, connectionFailure(ar.cause(), waitedMs));
        return;
      }
      HttpClientRequest req = ar.result();
      if (done()) {
        // aborted while waiting: hand the connection straight back
        req.reset();
        return;
      }
      request = req;
      // the attempt runs from here: the provider timeouts start now, not when the job asked for a connection
      totalTimer = vertx.setTimer(cfg.totalTimeoutMs(), t -> timedOut("the model took too long to answer"));
      eventTimer = vertx.setTimer(cfg.firstEventTimeoutMs(), t -> timedOut("the model did not start answering in time"));
      onWire.tryComplete(waitedMs);
      req.putHeader("x-api-key", cfg.apiKey())
          .putHeader("anthropic-version", cfg.anthropicVersion())
          .putHeader("content-type", "application/json")
          .putHeader("accept", "text/event-stream")
          .putHeader("user-agent", "chat-service")
          .send(body)
          .onComplete(this::responseStarted);
    }

    private ProviderException connectionFailure(Throwable err, long waitedMs) {
      log.debug("no Claude connection after {} ms: {}", waitedMs, err.toString());
      if (err instanceof ConnectionPoolTooBusyException) {
        return ProviderException.retryable("provider_pool_exhausted",
            "Too many requests to the AI service are waiting on this server; the reply will be retried.");
      }
      if (err instanceof TimeoutException) {
        return ProviderException.retryable("provider_pool_exhausted",
            "No connection to the AI service became free in time; the reply will be retried.");
      }
      if (err instanceof io.netty.channel.ConnectTimeoutException) {
        return ProviderException.retryable("provider_timeout", "The AI service timed out: connecting took too long.");
      }
      return ProviderException.retryable("provider_unreachable", "The AI service could not be reached.");
    }

    private void responseStarted(AsyncResult<HttpClientResponse> ar) {
      if (done()) {
        return;
      }
      if (ar.failed()) {
        log.debug("Claude request failed: {}", ar.cause().getClass().getSimpleName());
        finish(null, ar.cause() instanceof TimeoutException
            ? ProviderException.retryable("provider_timeout", "The AI service timed out.")
            : ProviderException.retryable("provider_unreachable", "The AI service could not be reached."));
        return;
      }
      HttpClientResponse response = ar.result();
      if (response.statusCode() != 200) {
        readError(response);
        return;
      }
      response.handler(this::onChunk);
      response.exceptionHandler(this::streamBroke);
      response.endHandler(v -> {
        responseEnded = true;
        finish(null, sawEvent
            ? ProviderException.retryable("provider_stream_cut", "The AI service's stream ended before the reply was complete.")
            : ProviderException.retryable("provider_bad_stream", "The AI service sent an empty stream."));
      });
    }

    private void readError(HttpClientResponse response) {
      int status = response.statusCode();
      long retryAfterMs = retryAfterMs(response.getHeader("retry-after"));
      errorBody = Buffer.buffer();
      response.handler(chunk -> {
        int room = MAX_ERROR_BODY - errorBody.length();
        if (room > 0) {
          errorBody.appendBuffer(chunk.length() > room ? chunk.slice(0, room) : chunk);
        }
      });
      response.exceptionHandler(this::streamBroke);
      response.endHandler(v -> {
        responseEnded = true;
        finish(null, classifyStatus(status, retryAfterMs));
      });
    }

    private void onChunk(Buffer chunk) {
      if (done()) {
        return;
      }
      parser.feed(chunk);
      if (parser.pendingSize() > MAX_EVENT_SIZE) {
        // a stream that never ends its event must not grow this buffer without bound
        finish(null, ProviderException.retryable("provider_bad_stream", "The AI service sent an unreadable stream."));
      }
    }

    private void streamBroke(Throwable err) {
      responseEnded = true;
      if (done()) {
        return;
      }
      log.debug("Claude stream broke: {}", err.getClass().getSimpleName());
      if (err instanceof TimeoutException) {
        finish(null, ProviderException.retryable("provider_timeout", "The AI service timed out: the stream stalled."));
      } else {
        finish(null, sawEvent
            ? ProviderException.retryable("provider_stream_cut", "The AI service's stream ended before the reply was complete.")
            : ProviderException.retryable("provider_unreachable", "The AI service could not be reached."));
      }
    }

    /**
     * Fires after {@code delayMs}; fails the attempt if no event came for {@code idle_timeout_ms} by
     * then, else waits for the rest of the window. Events only record their time, so a fast token
     * stream does not cancel and re-arm a timer per token.
     */
    private void watchIdle(long delayMs) {
      eventTimer = vertx.setTimer(Math.max(1, delayMs), t -> {
        long idleMs = (System.nanoTime() - lastEventNs) / 1_000_000;
        if (idleMs >= cfg.idleTimeoutMs()) {
          timedOut("the stream stalled");
        } else if (!done()) {
          watchIdle(cfg.idleTimeoutMs() - idleMs);
        }
      });
    }

    private void timedOut(String what) {
      finish(null, ProviderException.retryable("provider_timeout", "The AI service timed out: " + what + "."));
    }

    /**
     * Ends the attempt once. A failure before the response ended resets the stream, so an aborted or
     * timed-out attempt stops reading and its connection (HTTP/1.1) or stream slot (HTTP/2) is free.
     */
    private void finish(ModelResult ok, ProviderException err) {
      if (done()) {
        return;
      }
      vertx.cancelTimer(totalTimer);
      vertx.cancelTimer(eventTimer);
      if (ok != null) {
        result.tryComplete(ok);
        return;
      }
      onWire.tryFail(err);
      result.tryFail(err);
      if (request != null && !responseEnded) {
        request.reset();
      }
    }

    // ---- SSE events ----

    private void handleEvent(SseParser.Event event) {
      if (done()) {
        return;
      }
      lastEventNs = System.nanoTime();
      if (!sawEvent) {
        sawEvent = true;
        vertx.cancelTimer(eventTimer);
        watchIdle(cfg.idleTimeoutMs());
      }
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
          cacheWriteTokens = usage.getLong("cache_creation_input_tokens", 0L);
          cacheReadTokens = usage.getLong("cache_read_input_tokens", 0L);
          inputTokens = usage.getLong("input_tokens", 0L) + cacheWriteTokens + cacheReadTokens;
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
            finish(new ModelResult(model, new Usage(inputTokens, outputTokens), stopReason, cacheReadTokens,
                cacheWriteTokens), null);
        case "error" -> finish(null, classifyErrorType(data.getJsonObject("error", new JsonObject()), 0, -1, true));
        default -> {
          // ping, content_block_stop and event types added later carry nothing we need
        }
      }
    }

    private ProviderException classifyStatus(int status, long retryAfterMs) {
      JsonObject error = new JsonObject();
      try {
        JsonObject parsed = new JsonObject(errorBody);
        error = parsed.getJsonObject("error", error);
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
