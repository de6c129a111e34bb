package com.aichat.ai;

import com.aichat.contract.Addresses;
import com.aichat.contract.ChatMessage;
import com.aichat.contract.ChatSession;
import com.aichat.contract.DeltaEvent;
import com.aichat.contract.DispatchRequest;
import com.aichat.contract.MessageEvent;
import com.aichat.contract.QueuedEvent;
import com.aichat.persistence.Conversations.SendResult;
import com.aichat.persistence.ChatStore;
import com.aichat.testing.TestApp;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The real service (TestApp) wired to a {@link FakeAnthropicServer}, plus what generation tests
 * observe on the bus: every delta and every final message event, per reply. Messages are sent the way
 * the HTTP API does: {@code sendMessage} through the store, then {@link Addresses#DISPATCH}.
 */
public final class GenerationHarness {

  private final Vertx vertx;
  private final TestApp app;
  private final FakeAnthropicServer fake;
  private final ChatStore store;
  private final Map<String, List<DeltaEvent>> deltas = new ConcurrentHashMap<>();
  private final Map<String, Promise<ChatMessage>> finals = new ConcurrentHashMap<>();
  private final Map<String, List<String>> finalEventTypes = new ConcurrentHashMap<>();
  private final Map<String, QueuedEvent> queued = new ConcurrentHashMap<>();

  private GenerationHarness(Vertx vertx, TestApp app, FakeAnthropicServer fake) {
    this.vertx = vertx;
    this.app = app;
    this.fake = fake;
    this.store = ChatStore.client(vertx);
    vertx.eventBus().<JsonObject>consumer(Addresses.EVENTS_DELTA, m -> {
      DeltaEvent d = DeltaEvent.fromJson(m.body());
      deltas.computeIfAbsent(d.messageId(), k -> new ArrayList<>()).add(d);
    });
    vertx.eventBus().<JsonObject>consumer(Addresses.EVENTS_MESSAGE, m -> {
      if (MessageEvent.QUEUED.equals(m.body().getString("type"))) {
        QueuedEvent q = QueuedEvent.fromJson(m.body());
        queued.put(q.messageId(), q);
        return;
      }
      MessageEvent e = MessageEvent.fromJson(m.body());
      if (e.message().status().isFinal() && !e.type().equals(MessageEvent.CREATED)) {
        finalEventTypes.computeIfAbsent(e.message().id(), k -> new ArrayList<>()).add(e.type());
        promise(e.message().id()).tryComplete(e.message());
      }
    });
  }

  /** Test settings: short timeouts, leases and backoffs; Claude pointed at the fake. */
  public static JsonObject claudeOverrides(FakeAnthropicServer fake) {
    return new JsonObject()
        .put("ai", new JsonObject().put("provider", "claude"))
        .put("claude", new JsonObject()
            .put("api_key", API_KEY)
            .put("base_url", fake.baseUrl())
            .put("model", FakeAnthropicServer.MODEL)
            .put("system_prompt", "You are a test assistant.")
            .put("connect_timeout_ms", 1000)
            .put("first_event_timeout_ms", 400)
            .put("idle_timeout_ms", 400)
            .put("total_timeout_ms", 10_000))
        .put("worker", new JsonObject()
            .put("lease_ms", 2000)
            .put("checkpoint_interval_ms", 100)
            .put("delta_interval_ms", 30)
            .put("max_attempts", 3)
            .put("backoff_initial_ms", 20)
            .put("backoff_max_ms", 100))
        .put("dispatch", new JsonObject().put("sweep_interval_ms", 200).put("pending_grace_ms", 800));
  }

  /** The API key the tests configure; it must never show up in replies or errors. */
  public static final String API_KEY = "sk-ant-test-SECRET-0123456789";

  public static Future<GenerationHarness> start(Vertx vertx, Path dir, JsonObject extraOverrides) {
    FakeAnthropicServer fake = new FakeAnthropicServer(vertx);
    return fake.start()
        .compose(f -> {
          JsonObject overrides = claudeOverrides(f);
          overrides.mergeIn(extraOverrides == null ? new JsonObject() : extraOverrides, true);
          return TestApp.start(vertx, dir, overrides);
        })
        .map(app -> new GenerationHarness(vertx, app, fake));
  }

  public TestApp app() {
    return app;
  }

  public FakeAnthropicServer fake() {
    return fake;
  }

  public ChatStore store() {
    return store;
  }

  public static String newUserId() {
    return String.format("%024x", ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
  }

  public Future<ChatSession> newSession(String userId) {
    return store.createSession(userId, null, "test session");
  }

  /** Stores the user message and its placeholder, then dispatches it as the HTTP API does. */
  public Future<SendResult> send(String userId, String sessionId, String text) {
    return store.sendMessage(userId, sessionId, text, null)
        .onSuccess(r -> vertx.eventBus().send(Addresses.DISPATCH,
            new DispatchRequest(r.reply().id(), userId, sessionId).toJson()));
  }

  /** The {@code message.queued} event seen for a reply, or null when it was handed to a worker at once. */
  public QueuedEvent queuedEvent(String replyId) {
    return queued.get(replyId);
  }

  /** Sends, then waits until the reply is final. */
  public Future<ChatMessage> ask(String userId, String sessionId, String text) {
    return send(userId, sessionId, text).compose(r -> finalReply(r.reply().id()));
  }

  public Future<ChatMessage> finalReply(String replyId) {
    return promise(replyId).future();
  }

  public List<DeltaEvent> deltas(String replyId) {
    return deltas.getOrDefault(replyId, List.of());
  }

  /** Concatenation of the deltas received for a reply, in seq order. */
  public String deltaText(String replyId) {
    StringBuilder sb = new StringBuilder();
    deltas(replyId).stream().sorted((a, b) -> Long.compare(a.seq(), b.seq())).forEach(d -> sb.append(d.text()));
    return sb.toString();
  }

  /** Final message events ({@code message.completed|failed|cancelled}) seen for a reply. */
  public List<String> finalEvents(String replyId) {
    return finalEventTypes.getOrDefault(replyId, List.of());
  }

  private Promise<ChatMessage> promise(String replyId) {
    return finals.computeIfAbsent(replyId, k -> Promise.promise());
  }

  /** Completes once {@code condition} holds, checked every 10 ms on the harness's Vert.x. */
  public Future<Void> until(java.util.function.BooleanSupplier condition) {
    return TestApp.until(vertx, condition);
  }

  public Future<Void> close() {
    return fake.close();
  }
}
