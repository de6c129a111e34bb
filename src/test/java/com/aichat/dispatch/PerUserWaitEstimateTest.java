package com.aichat.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.aichat.contract.Addresses;
import com.aichat.contract.DispatchLoad;
import com.aichat.contract.DispatchReceipt;
import com.aichat.contract.DispatchRequest;
import com.aichat.contract.GenerateRequest;
import com.aichat.contract.MessageEvent;
import com.aichat.contract.QueuedEvent;
import com.aichat.testing.TestApp;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real dispatcher against one fake worker on the bus with far more slots (1,000) than one user may
 * hold ({@code maxPerUser} 1), as heap-derived worker limits give. A user's backlog then drains through
 * that user's own slot, not through the 1,000 shared ones, and the expected start and the admission
 * limit ({@code dispatch.max_queue_wait_ms}) must say so; another user is not held back.
 */
@ExtendWith(VertxExtension.class)
@DisplayName("Expected start when the per-user cap, not the worker slots, holds a user's backlog back")
class PerUserWaitEstimateTest {

  private static final String WORKER_ID = "fake-worker";
  private static final String WORKER_ADDRESS = "test.fake.worker";
  private static final int MAX = 1000;
  private static final long JOB_MS = 200;
  private static final long MAX_QUEUE_WAIT_MS = 500;

  private Vertx vertx;
  private final Map<String, Integer> runningPerUser = new ConcurrentHashMap<>();
  private final AtomicInteger free = new AtomicInteger(MAX);
  private final Map<String, QueuedEvent> queued = new ConcurrentHashMap<>();
  private final AtomicReference<DispatchLoad> lastLoad = new AtomicReference<>();
  private final List<String> offers = new CopyOnWriteArrayList<>();
  private final AtomicInteger refusals = new AtomicInteger();

  @BeforeEach
  void start(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    this.vertx = vertx;
    JsonObject overrides = new JsonObject()
        .put("verticles", new JsonObject().put("worker", 0).put("api", 0).put("gateway", 0))
        .put("dispatch", new JsonObject().put("max_queue_wait_ms", MAX_QUEUE_WAIT_MS));
    vertx.eventBus().<JsonObject>consumer(WORKER_ADDRESS, m -> {
      GenerateRequest r = GenerateRequest.fromJson(m.body());
      offers.add(r.messageId());
      int running = runningPerUser.getOrDefault(r.userId(), 0);
      if (running >= 1) {
        refusals.incrementAndGet();
        m.reply(answer(false, GenerateRequest.Answer.USER_BUSY));
        return;
      }
      runningPerUser.put(r.userId(), running + 1);
      free.decrementAndGet();
      m.reply(answer(true, null));
    });
    vertx.eventBus().<JsonObject>consumer(Addresses.AI_CAPACITY_QUERY, m -> announce(null));
    vertx.eventBus().<JsonObject>consumer(Addresses.EVENTS_MESSAGE, m -> {
      if (MessageEvent.QUEUED.equals(m.body().getString("type"))) {
        QueuedEvent q = QueuedEvent.fromJson(m.body());
        queued.put(q.messageId(), q);
      }
    });
    vertx.eventBus().<JsonObject>consumer(Addresses.DISPATCH_LOAD, m -> lastLoad.set(DispatchLoad.fromJson(m.body())));
    TestApp.start(vertx, dir, overrides).onComplete(ctx.succeeding(app -> {
      announce(null);
      ctx.completeNow();
    }));
  }

  private JsonObject answer(boolean accepted, String reason) {
    return new GenerateRequest.Answer(accepted, reason, WORKER_ID, WORKER_ADDRESS, free.get(), MAX, 1).toJson();
  }

  private void announce(String endedJob) {
    JsonObject c = new JsonObject().put("workerId", WORKER_ID).put("address", WORKER_ADDRESS).put("free", free.get())
        .put("max", MAX).put("maxPerUser", 1);
    vertx.eventBus().publish(Addresses.AI_CAPACITY, endedJob == null ? c : c.put("messageId", endedJob));
  }

  /** The fake worker finishes {@code user}'s job {@code messageId}. */
  private void finish(String user, String messageId) {
    runningPerUser.computeIfPresent(user, (u, n) -> n <= 1 ? null : n - 1);
    free.incrementAndGet();
    announce(messageId);
  }

  private Future<DispatchReceipt> dispatch(String messageId, String user) {
    return vertx.eventBus()
        .<JsonObject>request(Addresses.DISPATCH, new DispatchRequest(messageId, user, "session-" + user).toJson())
        .map(m -> DispatchReceipt.fromJson(m.body()));
  }

  private Future<Void> after(long ms) {
    Promise<Void> p = Promise.promise();
    vertx.setTimer(ms, t -> p.complete());
    return p.future();
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("with 1,000 free slots and 1 per user: a user's 2nd waiting reply is expected after 2 jobs, the 3rd would be refused, another user is not")
  void perUserCapBoundsTheEstimate(VertxTestContext ctx) {
    AtomicReference<DispatchReceipt> third = new AtomicReference<>();
    AtomicReference<DispatchReceipt> bobs = new AtomicReference<>();
    after(100)
        // one job of JOB_MS measured, so the dispatcher has a time per job
        .compose(v -> dispatch("a0", "alice"))
        .compose(r -> after(JOB_MS))
        .compose(v -> {
          finish("alice", "a0");
          return TestApp.until(vertx, () -> lastLoad.get() != null && lastLoad.get().jobMs() != null);
        })
        // a1 runs; a2 and a3 wait (alice is at her cap on the only worker)
        .compose(v -> dispatch("a1", "alice"))
        .compose(r -> dispatch("a2", "alice"))
        .compose(r -> TestApp.until(vertx, () -> queued.containsKey("a2")))
        .compose(v -> dispatch("a3", "alice"))
        .compose(r -> {
          third.set(r);
          return dispatch("b0", "bob");
        })
        .compose(r -> {
          bobs.set(r);
          long sentAt = System.currentTimeMillis();
          return TestApp.until(vertx, () -> lastLoad.get().queued() == 2 && lastLoad.get().atMs() > sentAt);
        })
        .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
          DispatchReceipt r3 = third.get();
          assertThat(r3.load().slots()).isEqualTo(MAX);
          long jobMs = r3.load().jobMs();
          assertThat(jobMs).isGreaterThanOrEqualTo(JOB_MS);
          // alice's first waiting reply: one of her jobs must end first (not 1/1000 of one)
          assertThat(queued.get("a2").queue().expectedStartMs()).isCloseTo(jobMs, within(1L));
          // her second waiting reply: two of her jobs, through her single slot
          assertThat(r3.queue().position()).isEqualTo(2);
          assertThat(r3.queue().expectedStartMs()).isCloseTo(2 * jobMs, within(1L));
          // her next one would start after 3 × jobMs > max_queue_wait_ms: refused up front
          assertThat(3 * jobMs).isGreaterThan(MAX_QUEUE_WAIT_MS);
          assertThat(r3.userRetryAfterMs()).isNotNull().isPositive();
          assertThat(lastLoad.get().refusedUsers()).containsKey("alice").doesNotContainKey("bob");
          // bob is not held back by alice's cap: a slot takes his reply at once, and a newcomer's wait is
          // counted over the shared slots
          assertThat(bobs.get().queue()).isNull();
          assertThat(bobs.get().userRetryAfterMs()).isNull();
          assertThat(lastLoad.get().newcomerWaitMs()).isLessThan(MAX_QUEUE_WAIT_MS);
          ctx.completeNow();
        })));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("with 1,000 free slots, a user at the per-user cap is not offered again on every other user's job end, only on one of their own")
  void cappedUserIsNotReofferedOnEveryAnnouncement(VertxTestContext ctx) {
    after(100)
        .compose(v -> dispatch("a0", "alice"))
        .compose(r -> dispatch("a1", "alice"))
        .compose(r -> dispatch("a2", "alice"))
        .compose(r -> dispatch("b0", "bob"))
        .compose(r -> TestApp.until(vertx, () -> offers.contains("b0")))
        // bob's jobs end and start again: each end is a capacity announcement with 999 free slots
        .compose(v -> {
          finish("bob", "b0");
          return dispatch("b1", "bob");
        })
        .compose(r -> TestApp.until(vertx, () -> offers.contains("b1")))
        .compose(v -> {
          finish("bob", "b1");
          return after(300); // past a few load ticks, which pump the queue too
        })
        .compose(v -> {
          ctx.verify(() -> {
            assertThat(offers).containsExactlyInAnyOrder("a0", "b0", "b1");
            assertThat(refusals.get()).isZero();
          });
          finish("alice", "a0"); // alice's own slot frees: her next reply, and only that one, is offered
          return TestApp.until(vertx, () -> offers.contains("a1"));
        })
        .compose(v -> after(300))
        .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
          assertThat(offers).containsExactlyInAnyOrder("a0", "b0", "b1", "a1");
          assertThat(refusals.get()).isZero();
          ctx.completeNow();
        })));
  }
}
