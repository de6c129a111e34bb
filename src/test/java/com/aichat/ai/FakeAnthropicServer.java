package com.aichat.ai;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An in-test HTTP server speaking the Anthropic Messages API wire format: {@code POST /v1/messages}
 * with {@code stream: true} answered as {@code text/event-stream} ({@code event:}/{@code data:} lines,
 * blank-line framing: message_start, content_block_start, ping, content_block_delta/text_delta,
 * content_block_stop, message_delta, message_stop), and errors as JSON {@code {type: "error", error:
 * {type, message}}} with their HTTP status.
 *
 * <p>Scenarios are scripted per question: a request whose last user turn contains a script's key
 * consumes the script's next {@link Scenario} (the last one repeats). Requests matching no script get
 * the default. Every request is recorded (headers and body).
 *
 * <p>Compaction support (docs/context.md):
 *
 * <ul>
 *   <li>{@code POST /v1/messages/count_tokens} answers {@code {"input_tokens": n}} with this fake's token
 *       count ({@link #tokens}: {@code ceil(chars / 4)} of every system and message text);
 *   <li>a summary request (its last user turn holds a {@code <transcript>}) is answered by
 *       {@link #summaryScenario} (by default a deterministic summary naming how many transcript lines it
 *       read) and recorded in {@link #summaryRequests()};
 *   <li>prompt caching is simulated on the wire format: every {@code cache_control} breakpoint's prefix
 *       (system blocks, then message blocks, in order) is remembered once written; a request reads the
 *       longest remembered prefix ({@code cache_read_input_tokens}), writes up to its last breakpoint
 *       ({@code cache_creation_input_tokens}) and pays the rest ({@code input_tokens}). The real API's
 *       minimum cacheable length and five-minute lifetime are not modelled. Off unless
 *       {@link #simulateCache(boolean)}: then every stream reports {@code input_tokens: 25}.
 * </ul>
 */
public final class FakeAnthropicServer {

  /** One recorded request, with the HTTP version it came over. */
  public record Recorded(MultiMap headers, JsonObject body, long receivedAtMs, HttpVersion version) {

    /**
     * Text of the last user turn (string content or text blocks joined); a continue's request ends
     * with an assistant turn after it.
     */
    public String lastUserText() {
      JsonArray messages = body.getJsonArray("messages");
      for (int i = messages.size() - 1; i >= 0; i--) {
        if ("user".equals(messages.getJsonObject(i).getString("role"))) {
          return textOf(messages.getJsonObject(i));
        }
      }
      return textOf(messages.getJsonObject(messages.size() - 1));
    }

    public static String textOf(JsonObject message) {
      Object content = message.getValue("content");
      if (content instanceof String s) {
        return s;
      }
      StringBuilder sb = new StringBuilder();
      for (Object block : (JsonArray) content) {
        sb.append(((JsonObject) block).getString("text"));
      }
      return sb.toString();
    }
  }

  /** How one request is answered. */
  public interface Scenario {}

  /** Streams {@code chunks} like {@link Stream}, then ends with {@code stop_reason: "max_tokens"}. */
  public record Truncated(List<String> chunks, long delayMs) implements Scenario {}

  /** Streams {@code chunks} as text deltas, {@code delayMs} apart, then ends normally. */
  public record Stream(List<String> chunks, long delayMs, boolean crlf, boolean fragmentWrites) implements Scenario {}

  /** Streams the first {@code chunksBeforeCut} chunks, then closes the connection (no message_stop). */
  public record Cut(List<String> chunks, int chunksBeforeCut, long delayMs) implements Scenario {}

  /** Streams {@code chunksBefore} chunks, then an {@code error} event of {@code errorType}. */
  public record ErrorEvent(List<String> chunks, int chunksBefore, String errorType) implements Scenario {}

  /** Answers {@code status} with a JSON error of {@code errorType}, and {@code retry-after} if set. */
  public record Status(int status, String errorType, String retryAfter) implements Scenario {}

  /** Accepts the request and never answers. */
  public record Hang() implements Scenario {}

  public static final String MODEL = "claude-fake-1";

  /** The usage this fake reported for one request (message_start's {@code usage}). */
  public record ReportedUsage(long inputTokens, long cacheWriteTokens, long cacheReadTokens) {
    /** All input tokens, cached or not: what the client records as {@code usage.inputTokens}. */
    public long total() {
      return inputTokens + cacheWriteTokens + cacheReadTokens;
    }
  }

  private final Vertx vertx;
  private HttpServer server;
  private boolean tls;
  private final List<Recorded> requests = new CopyOnWriteArrayList<>();
  private final Map<String, List<Scenario>> scripts = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> scriptPositions = new ConcurrentHashMap<>();
  private volatile Scenario defaultScenario = stream(List.of("Hello", " from", " the", " fake", " Claude."), 5);
  private final AtomicInteger inFlight = new AtomicInteger();
  private final Map<Recorded, Long> endTimes = Collections.synchronizedMap(new java.util.IdentityHashMap<>());
  /** When a stream began writing its final events: the provider's end, before any flush or callback lag. */
  private final Map<Recorded, Long> finishTimes = Collections.synchronizedMap(new java.util.IdentityHashMap<>());
  private final AtomicInteger maxInFlight = new AtomicInteger();
  private final List<Recorded> countRequests = new CopyOnWriteArrayList<>();
  private final List<Recorded> summaryRequests = new CopyOnWriteArrayList<>();
  private final Map<Recorded, ReportedUsage> usages = Collections.synchronizedMap(new java.util.IdentityHashMap<>());
  private final java.util.Set<String> cachedPrefixes = ConcurrentHashMap.newKeySet();
  private volatile Scenario summaryScenario;
  private volatile int countStatus = 200;
  private volatile boolean simulateCache;

  public FakeAnthropicServer(Vertx vertx) {
    this.vertx = vertx;
  }

  public static Stream stream(List<String> chunks, long delayMs) {
    return new Stream(chunks, delayMs, false, false);
  }

  /** {@code n} chunks "w0 ", "w1 ", … */
  public static List<String> words(int n) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add("w" + i + " ");
    }
    return out;
  }

  public Future<FakeAnthropicServer> start() {
    return start(new HttpServerOptions());
  }

  /**
   * Starts with the given server options, e.g. TLS with ALPN ({@code h2} and/or {@code http/1.1}); then
   * {@link #baseUrl()} is {@code https://localhost:port}.
   */
  public Future<FakeAnthropicServer> start(HttpServerOptions options) {
    tls = options.isSsl();
    return vertx.createHttpServer(options)
        .requestHandler(this::handle)
        .listen(0, "127.0.0.1")
        .map(s -> {
          server = s;
          return this;
        });
  }

  public Future<Void> close() {
    return server == null ? Future.succeededFuture() : server.close();
  }

  public String baseUrl() {
    return tls ? "https://localhost:" + server.actualPort() : "http://127.0.0.1:" + server.actualPort();
  }

  /** Requests streaming right now. */
  public int inFlight() {
    return inFlight.get();
  }

  private volatile ReportedUsage fixedUsage = new ReportedUsage(25, 0, 0);

  /**
   * The {@code usage} every {@code message_start} reports from now on, unless prompt caching is
   * simulated (the default: 25 input tokens, no cache); {@code output_tokens} of {@code message_delta} stays the number of chunks streamed.
   */
  public FakeAnthropicServer usage(long inputTokens, long cacheCreationTokens, long cacheReadTokens) {
    fixedUsage = new ReportedUsage(inputTokens, cacheCreationTokens, cacheReadTokens);
    return this;
  }

  public FakeAnthropicServer defaultScenario(Scenario s) {
    defaultScenario = s;
    return this;
  }

  /** Requests whose last user turn contains {@code key} are answered by {@code scenarios} in order. */
  public FakeAnthropicServer script(String key, Scenario... scenarios) {
    scripts.put(key, List.of(scenarios));
    scriptPositions.put(key, new AtomicInteger());
    return this;
  }

  public List<Recorded> requests() {
    return Collections.unmodifiableList(requests);
  }

  /** Requests to {@code /v1/messages/count_tokens}. */
  public List<Recorded> countRequests() {
    return Collections.unmodifiableList(countRequests);
  }

  /** Summary requests (last user turn holding a {@code <transcript>}), also listed in {@link #requests()}. */
  public List<Recorded> summaryRequests() {
    return Collections.unmodifiableList(summaryRequests);
  }

  /** Message requests that are not summary requests: the chat replies. */
  public List<Recorded> replyRequests() {
    return requests.stream().filter(r -> !isSummaryRequest(r)).toList();
  }

  /** How summary requests are answered; null (the default) streams {@link #fakeSummary}. */
  public FakeAnthropicServer summaryScenario(Scenario s) {
    summaryScenario = s;
    return this;
  }

  /**
   * Turns the simulated prompt cache on; off (the default), every stream reports the fixed usage
   * {@code input_tokens: 25}, no cache tokens.
   */
  public FakeAnthropicServer simulateCache(boolean on) {
    simulateCache = on;
    return this;
  }

  /** The HTTP status count_tokens answers with (200 by default; others answer a JSON error). */
  public FakeAnthropicServer countStatus(int status) {
    countStatus = status;
    return this;
  }

  /** The usage reported for a streamed request, or null when it was not answered with a stream. */
  public ReportedUsage usageOf(Recorded r) {
    return usages.get(r);
  }

  public static boolean isSummaryRequest(Recorded r) {
    return r.lastUserText().contains("<transcript>");
  }

  /** The fake's token count of a text: {@code ceil(chars / 4)}. */
  public static long tokens(String text) {
    return (text.length() + 3) / 4;
  }

  /** The fake's count of a request body's input: every system and message text. */
  public static long countInput(JsonObject body) {
    long n = 0;
    for (Block b : blocks(body)) {
      n += b.tokens();
    }
    return n;
  }

  /** The system blocks of a request that carry {@code cache_control}, encoded: the cached system prefix. */
  public static String cachedSystemPrefix(JsonObject body) {
    Object system = body.getValue("system");
    if (!(system instanceof JsonArray arr)) {
      return "";
    }
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < arr.size(); i++) {
      sb.append(arr.getJsonObject(i).encode());
      if (arr.getJsonObject(i).containsKey("cache_control")) {
        return sb.toString();
      }
    }
    return "";
  }

  /** The summary this fake writes for a summary request: deterministic, short. */
  public static String fakeSummary(Recorded r) {
    String text = r.lastUserText();
    String transcript = text.substring(text.indexOf("<transcript>"));
    long lines = transcript.lines().filter(l -> l.startsWith("User:") || l.startsWith("Assistant:")).count();
    boolean previous = text.contains("<previous-summary>");
    return "Fake summary: " + lines + " transcript lines folded in" + (previous ? " after the previous summary" : "")
        + "; last line: " + transcript.lines().filter(l -> l.startsWith("User:") || l.startsWith("Assistant:"))
            .reduce((a, b) -> b).map(l -> l.length() > 60 ? l.substring(0, 60) : l).orElse("") + ".";
  }

  /** One cacheable unit of a request: its role and text, and whether a breakpoint ends it. */
  private record Block(String key, long tokens, boolean breakpoint) {}

  private static List<Block> blocks(JsonObject body) {
    List<Block> out = new ArrayList<>();
    Object system = body.getValue("system");
    if (system instanceof String str) {
      out.add(new Block("system:" + str, tokens(str), false));
    } else if (system instanceof JsonArray arr) {
      for (Object o : arr) {
        JsonObject b = (JsonObject) o;
        out.add(new Block("system:" + b.getString("text"), tokens(b.getString("text")), b.containsKey("cache_control")));
      }
    }
    JsonArray messages = body.getJsonArray("messages", new JsonArray());
    for (Object o : messages) {
      JsonObject m = (JsonObject) o;
      Object content = m.getValue("content");
      if (content instanceof String str) {
        out.add(new Block(m.getString("role") + ":" + str, tokens(str), false));
      } else {
        for (Object c : (JsonArray) content) {
          JsonObject b = (JsonObject) c;
          out.add(new Block(m.getString("role") + ":" + b.getString("text"), tokens(b.getString("text")),
              b.containsKey("cache_control")));
        }
      }
    }
    return out;
  }

  /** Simulated prompt caching (see the class comment): the usage of one request. */
  private ReportedUsage cacheUsage(JsonObject body) {
    List<Block> blocks = blocks(body);
    List<String> keys = new ArrayList<>();
    StringBuilder prefix = new StringBuilder();
    long total = 0;
    long[] upTo = new long[blocks.size()];
    for (int i = 0; i < blocks.size(); i++) {
      prefix.append(blocks.get(i).key()).append('\u0000');
      keys.add(Integer.toHexString(prefix.toString().hashCode()) + ":" + prefix.length());
      total += blocks.get(i).tokens();
      upTo[i] = total;
    }
    long read = 0;
    long lastBreakpoint = 0;
    for (int i = 0; i < blocks.size(); i++) {
      if (blocks.get(i).breakpoint()) {
        // like the real API: a breakpoint also finds an entry written up to 20 blocks before it
        for (int j = i; j >= Math.max(0, i - 20); j--) {
          if (cachedPrefixes.contains(keys.get(j))) {
            read = Math.max(read, upTo[j]);
            break;
          }
        }
        lastBreakpoint = upTo[i];
      }
    }
    for (int i = 0; i < blocks.size(); i++) {
      if (blocks.get(i).breakpoint()) {
        cachedPrefixes.add(keys.get(i));
      }
    }
    long write = Math.max(0, lastBreakpoint - read);
    return new ReportedUsage(total - read - write, write, read);
  }

  /** Requests that were answered by the script of {@code key}. */
  public List<Recorded> requestsFor(String key) {
    return requests.stream().filter(r -> key.equals(scriptKey(r.lastUserText()))).toList();
  }

  /**
   * When the response to {@code r} ended: when it began writing its final events (taken before the
   * writes, so a client that acts on the end can never be seen to act earlier), or, for a response
   * without them, when it ended or its connection closed; null while it runs.
   */
  public Long endedAtMs(Recorded r) {
    Long finished = finishTimes.get(r);
    return finished != null ? finished : endTimes.get(r);
  }

  /** The most requests streaming at the same time. */
  public int maxInFlight() {
    return maxInFlight.get();
  }

  private void handle(HttpServerRequest req) {
    req.body().onSuccess(buf -> {
      boolean post = req.method().name().equals("POST");
      if (post && req.path().equals("/v1/messages/count_tokens")) {
        countTokens(req, buf.toJsonObject());
        return;
      }
      if (!req.path().equals("/v1/messages") || !post) {
        json(req.response(), 404, "not_found_error", null);
        return;
      }
      JsonObject body = buf.toJsonObject();
      Recorded rec = new Recorded(MultiMap.caseInsensitiveMultiMap().addAll(req.headers()), body,
          System.currentTimeMillis(), req.version());
      requests.add(rec);
      Scenario scenario;
      if (isSummaryRequest(rec)) {
        summaryRequests.add(rec);
        scenario = summaryScenario != null ? summaryScenario : stream(List.of(fakeSummary(rec)), 1);
      } else {
        scenario = pick(rec.lastUserText());
      }
      maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
      java.util.concurrent.atomic.AtomicBoolean ended = new java.util.concurrent.atomic.AtomicBoolean();
      Runnable done = () -> {
        if (ended.compareAndSet(false, true)) {
          endTimes.put(rec, System.currentTimeMillis());
          inFlight.decrementAndGet();
        }
      };
      req.response().closeHandler(v -> done.run());
      req.response().endHandler(v -> done.run());
      respond(req, rec, scenario);
    });
  }

  private void countTokens(HttpServerRequest req, JsonObject body) {
    countRequests.add(new Recorded(MultiMap.caseInsensitiveMultiMap().addAll(req.headers()), body,
        System.currentTimeMillis(), req.version()));
    if (countStatus != 200) {
      json(req.response(), countStatus, "api_error", null);
      return;
    }
    req.response().putHeader("content-type", "application/json")
        .end(new JsonObject().put("input_tokens", countInput(body)).encode());
  }

  /** The script key occurring last in the question (a merged turn may quote earlier keys), or null. */
  private String scriptKey(String question) {
    String best = null;
    int bestAt = -1;
    for (String key : scripts.keySet()) {
      int at = question.lastIndexOf(key);
      if (at > bestAt) {
        best = key;
        bestAt = at;
      }
    }
    return best;
  }

  private Scenario pick(String question) {
    String key = scriptKey(question);
    if (key == null) {
      return defaultScenario;
    }
    List<Scenario> list = scripts.get(key);
    int i = scriptPositions.get(key).getAndIncrement();
    return list.get(Math.min(i, list.size() - 1));
  }

  private void respond(HttpServerRequest req, Recorded rec, Scenario scenario) {
    HttpServerResponse res = req.response();
    if (scenario instanceof Stream || scenario instanceof Truncated || scenario instanceof Cut
        || scenario instanceof ErrorEvent) {
      usages.put(rec, simulateCache ? cacheUsage(rec.body()) : fixedUsage);
    }
    if (scenario instanceof Status s) {
      json(res, s.status(), s.errorType(), s.retryAfter());
    } else if (scenario instanceof Stream s) {
      startStream(res, usages.get(rec));
      writeEvents(res, s.chunks(), s.chunks().size(), s.delayMs(), s.crlf(), s.fragmentWrites(), 0,
          () -> {
            finishTimes.putIfAbsent(rec, System.currentTimeMillis());
            finish(res, s.chunks().size(), s.crlf(), s.fragmentWrites());
          });
    } else if (scenario instanceof Truncated t) {
      startStream(res, usages.get(rec));
      writeEvents(res, t.chunks(), t.chunks().size(), t.delayMs(), false, false, 0,
          () -> {
            finishTimes.putIfAbsent(rec, System.currentTimeMillis());
            finish(res, t.chunks().size(), false, false, "max_tokens");
          });
    } else if (scenario instanceof Cut c) {
      startStream(res, usages.get(rec));
      writeEvents(res, c.chunks(), c.chunksBeforeCut(), c.delayMs(), false, false, 0,
          () -> req.connection().close());
    } else if (scenario instanceof ErrorEvent e) {
      startStream(res, usages.get(rec));
      writeEvents(res, e.chunks(), e.chunksBefore(), 5, false, false, 0, () -> {
        event(res, "error", new JsonObject().put("type", "error")
            .put("error", new JsonObject().put("type", e.errorType()).put("message", "Overloaded")), false, false);
        res.end();
      });
    }
    // Hang: never answer
  }

  private void startStream(HttpServerResponse res, ReportedUsage usage) {
    res.setStatusCode(200).setChunked(true)
        .putHeader("content-type", "text/event-stream; charset=utf-8")
        .putHeader("cache-control", "no-cache")
        .putHeader("request-id", "req_fake");
    event(res, "message_start", new JsonObject().put("type", "message_start").put("message", new JsonObject()
        .put("id", "msg_fake").put("type", "message").put("role", "assistant").put("content", new JsonArray())
        .put("model", MODEL).put("stop_reason", (String) null).put("stop_sequence", (String) null)
        .put("usage", new JsonObject().put("input_tokens", usage.inputTokens())
            .put("cache_creation_input_tokens", usage.cacheWriteTokens())
            .put("cache_read_input_tokens", usage.cacheReadTokens()).put("output_tokens", 1))), false, false);
    event(res, "content_block_start", new JsonObject().put("type", "content_block_start").put("index", 0)
        .put("content_block", new JsonObject().put("type", "text").put("text", "")), false, false);
    event(res, "ping", new JsonObject().put("type", "ping"), false, false);
  }

  private void writeEvents(HttpServerResponse res, List<String> chunks, int count, long delayMs, boolean crlf,
      boolean fragment, int index, Runnable then) {
    if (index >= count) {
      then.run();
      return;
    }
    vertx.setTimer(Math.max(1, delayMs), t -> {
      if (res.closed()) {
        return;
      }
      event(res, "content_block_delta", new JsonObject().put("type", "content_block_delta").put("index", 0)
          .put("delta", new JsonObject().put("type", "text_delta").put("text", chunks.get(index))), crlf, fragment);
      writeEvents(res, chunks, count, delayMs, crlf, fragment, index + 1, then);
    });
  }

  private void finish(HttpServerResponse res, int outputTokens, boolean crlf, boolean fragment) {
    finish(res, outputTokens, crlf, fragment, "end_turn");
  }

  private void finish(HttpServerResponse res, int outputTokens, boolean crlf, boolean fragment, String stopReason) {
    if (res.closed()) {
      return;
    }
    event(res, "content_block_stop", new JsonObject().put("type", "content_block_stop").put("index", 0), crlf, fragment);
    event(res, "message_delta", new JsonObject().put("type", "message_delta")
        .put("delta", new JsonObject().put("stop_reason", stopReason).put("stop_sequence", (String) null))
        .put("usage", new JsonObject().put("output_tokens", outputTokens)), crlf, fragment);
    event(res, "message_stop", new JsonObject().put("type", "message_stop"), crlf, fragment);
    res.end();
  }

  private static void event(HttpServerResponse res, String name, JsonObject data, boolean crlf, boolean fragment) {
    String nl = crlf ? "\r\n" : "\n";
    Buffer bytes = Buffer.buffer("event: " + name + nl + "data: " + data.encode() + nl + nl);
    if (!fragment) {
      res.write(bytes);
      return;
    }
    for (int i = 0; i < bytes.length(); i += 3) {
      res.write(bytes.slice(i, Math.min(bytes.length(), i + 3)).copy());
    }
  }

  private static void json(HttpServerResponse res, int status, String errorType, String retryAfter) {
    if (retryAfter != null) {
      res.putHeader("retry-after", retryAfter);
    }
    res.setStatusCode(status).putHeader("content-type", "application/json").end(new JsonObject()
        .put("type", "error")
        .put("error", new JsonObject().put("type", errorType).put("message", "fake " + errorType))
        .encode());
  }
}
