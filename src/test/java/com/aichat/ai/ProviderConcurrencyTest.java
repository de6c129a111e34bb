package com.aichat.ai;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.ai.FakeAnthropicServer.Recorded;
import com.aichat.contract.ChatMessage;
import com.aichat.contract.MessageStatus;
import com.aichat.contract.MessageType;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The provider connection pool ({@code claude.max_connections}, {@code claude.connection_wait_timeout_ms})
 * against the fake Messages API over real HTTP, on one worker instance so the pool's bound is exact.
 * The harness's timeouts are short (first event and idle 400 ms, connect 1 s, lease 2 s), so a job whose
 * timers or lease ran while it waited for a connection would be retried, and show up as a second
 * attempt or a second provider request.
 */
@ExtendWith(VertxExtension.class)
@DisplayName("Provider connections: the pool never caps below its size, and waiting for a connection costs no timeout or lease")
class ProviderConcurrencyTest {

  private static final int N = 6;

  /**
   * 3 s, not the harness's 2 s: under the stress mode's CPU hogs a checkpoint (the lease renewal, every
   * 100 ms) was held up for 2 s, and the job rightly stopped as having lost its lease.
   */
  private static final long LEASE_MS = 3000;

  /**
   * The harness's 400 ms first-event and idle timeouts are for the timeout tests; here they only made a
   * stream of a loaded machine (the stress mode's CPU hogs) time out and take a second attempt, which is
   * not what these tests measure: 1 s and 2 s (a waiting job still waits longer than its first-event time).
   * The same for the lease ({@link #LEASE_MS}).
   */
  private static JsonObject overrides(int maxConnections, JsonObject claudeExtra) {
    JsonObject claude = new JsonObject().put("max_connections", maxConnections)
        .put("first_event_timeout_ms", 1000).put("idle_timeout_ms", 2000).mergeIn(claudeExtra);
    return new JsonObject()
        .put("verticles", new JsonObject().put("worker", 1))
        .put("worker", new JsonObject().put("max_concurrent", N).put("lease_ms", LEASE_MS))
        .put("claude", claude);
  }

  /** Sends one question per user (so the per-user cap plays no part), all at once. */
  private static Future<List<ChatMessage>> askConcurrently(GenerationHarness h, String key, int n) {
    List<Future<ChatMessage>> replies = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String user = GenerationHarness.newUserId();
      int index = i;
      replies.add(h.newSession(user).compose(s -> h.ask(user, s.id(), key + " " + index)));
    }
    return Future.all(replies).map(all -> all.list());
  }

  @Test
  @DisplayName("with claude.max_connections equal to the number of streams, all of them reach the provider at once")
  void poolAsLargeAsTheLoadRunsEverythingAtOnce(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    GenerationHarness.start(vertx, dir, overrides(N, new JsonObject()))
        .compose(h -> {
          // 15 chunks 100 ms apart: each stream lasts ~1.5 s, long enough for all to overlap
          h.fake().script("wide", FakeAnthropicServer.stream(FakeAnthropicServer.words(15), 100));
          return askConcurrently(h, "wide", N).map(replies -> {
            ctx.verify(() -> {
              assertThat(replies).allMatch(r -> r.status() == MessageStatus.COMPLETED);
              assertThat(replies).allMatch(r -> r.attempts() == 1);
              assertThat(h.fake().requestsFor("wide")).hasSize(N);
              assertThat(h.fake().maxInFlight()).isEqualTo(N);
              assertThat(h.fake().requestsFor("wide")).allMatch(r -> r.version() == io.vertx.core.http.HttpVersion.HTTP_1_1);
            });
            return h;
          });
        })
        .compose(GenerationHarness::close)
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("with one connection fewer than streams, the extra job waits for a connection longer than its first-event, total and lease times, and still completes in one attempt")
  void waitingForAConnectionCostsNoTimeoutNorLease(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    // total 7 s: the waiting job waits ~4 s (longer than its 1 s first-event time and 3 s lease) and
    // then streams ~4 s, 8 s after it asked for a connection; one stream alone keeps 3 s of the total
    // spare, and chunks 100 ms apart 1.9 s of the idle timeout (0.5 s and 0.3 s before: a loaded machine
    // ran a stream past them and the reply took a second attempt)
    JsonObject claude = new JsonObject().put("total_timeout_ms", 7000);
    GenerationHarness.start(vertx, dir, overrides(N - 1, claude))
        .compose(h -> {
          h.fake().script("narrow", FakeAnthropicServer.stream(FakeAnthropicServer.words(40), 100));
          return askConcurrently(h, "narrow", N).map(replies -> {
            ctx.verify(() -> {
              String expected = String.join("", FakeAnthropicServer.words(40));
              assertThat(replies).allMatch(r -> r.status() == MessageStatus.COMPLETED);
              assertThat(replies).allMatch(r -> expected.equals(r.content()));
              // no timeout, no lease expiry, no re-dispatch: one attempt and one request each
              assertThat(replies).allMatch(r -> r.attempts() == 1);
              List<Recorded> requests = new ArrayList<>(h.fake().requestsFor("narrow"));
              assertThat(requests).hasSize(N);
              assertThat(h.fake().maxInFlight()).isEqualTo(N - 1);
              // the last request reached the provider only once an earlier stream had ended
              requests.sort(Comparator.comparingLong(Recorded::receivedAtMs));
              long firstEnd = requests.subList(0, N - 1).stream().mapToLong(r -> h.fake().endedAtMs(r)).min().orElseThrow();
              assertThat(requests.get(N - 1).receivedAtMs()).isGreaterThanOrEqualTo(firstEnd);
            });
            return h;
          });
        })
        .compose(GenerationHarness::close)
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a job that waits longer than claude.connection_wait_timeout_ms ends as provider_pool_exhausted without reaching the provider; the stream holding the connection is unaffected")
  void connectionWaitIsBounded(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    JsonObject claude = new JsonObject().put("connection_wait_timeout_ms", 300).put("connect_timeout_ms", 200);
    GenerationHarness.start(vertx, dir, overrides(1, claude))
        .compose(h -> {
          // 40 chunks 100 ms apart: the one connection stays busy for ~4 s, longer than 3 attempts of 300 ms
          h.fake().script("holder", FakeAnthropicServer.stream(FakeAnthropicServer.words(40), 100));
          h.fake().script("starved", FakeAnthropicServer.stream(List.of("never sent"), 1));
          String a = GenerationHarness.newUserId();
          String b = GenerationHarness.newUserId();
          Future<ChatMessage> holder = h.newSession(a).compose(s -> h.ask(a, s.id(), "holder"));
          return h.until(() -> h.fake().inFlight() == 1)
              .compose(v -> h.newSession(b))
              .compose(s -> h.ask(b, s.id(), "starved"))
              .compose(starved -> holder.map(held -> {
                ctx.verify(() -> {
                  assertThat(starved.messageType()).isEqualTo(MessageType.AI_ERROR);
                  assertThat(starved.error().code()).isEqualTo("provider_pool_exhausted");
                  assertThat(starved.attempts()).isEqualTo(3);
                  assertThat(h.fake().requestsFor("starved")).isEmpty();
                  assertThat(held.status()).isEqualTo(MessageStatus.COMPLETED);
                  assertThat(held.attempts()).isEqualTo(1);
                });
                return h;
              }));
        })
        .compose(GenerationHarness::close)
        .onComplete(ctx.succeedingThenComplete());
  }
}
