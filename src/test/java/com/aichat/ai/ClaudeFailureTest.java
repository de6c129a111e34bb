package com.aichat.ai;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.ai.FakeAnthropicServer.Cut;
import com.aichat.ai.FakeAnthropicServer.ErrorEvent;
import com.aichat.ai.FakeAnthropicServer.Hang;
import com.aichat.ai.FakeAnthropicServer.Recorded;
import com.aichat.ai.FakeAnthropicServer.Scenario;
import com.aichat.ai.FakeAnthropicServer.Status;
import com.aichat.contract.ChatMessage;
import com.aichat.contract.MessageStatus;
import com.aichat.contract.MessageType;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(VertxExtension.class)
@DisplayName("Provider failures: retryable ones are retried with backoff, others end as ai_error at once")
class ClaudeFailureTest {

  private static final List<String> OK = List.of("recovered ", "answer");

  private GenerationHarness h;
  private String user;
  private String session;

  @BeforeEach
  void start(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    user = GenerationHarness.newUserId();
    GenerationHarness.start(vertx, dir, null)
        .compose(started -> {
          h = started;
          return h.newSession(user);
        })
        .onComplete(ctx.succeeding(s -> {
          session = s.id();
          ctx.completeNow();
        }));
  }

  @AfterEach
  void stop(VertxTestContext ctx) {
    h.close().onComplete(ctx.succeedingThenComplete());
  }

  /** Asks each question in turn (so scripts never interleave) and collects the final replies. */
  private Future<Map<String, ChatMessage>> askAll(List<String> keys) {
    Map<String, ChatMessage> out = new LinkedHashMap<>();
    Future<Void> chain = Future.succeededFuture();
    for (String key : keys) {
      chain = chain.compose(v -> h.ask(user, session, "question " + key).map(r -> {
        out.put(key, r);
        return null;
      }));
    }
    return chain.map(v -> out);
  }

  @Test
  @DisplayName("429 (honouring retry-after), 529, 500, a cut stream, an error event and a hung request are each retried, then succeed")
  void retryableFailuresAreRetried(VertxTestContext ctx) {
    Map<String, Scenario> failures = new LinkedHashMap<>();
    failures.put("r429", new Status(429, "rate_limit_error", "0.3"));
    failures.put("r529", new Status(529, "overloaded_error", null));
    failures.put("r500", new Status(500, "api_error", null));
    failures.put("rcut", new Cut(FakeAnthropicServer.words(10), 4, 2));
    failures.put("revent", new ErrorEvent(FakeAnthropicServer.words(10), 3, "overloaded_error"));
    failures.put("rhang", new Hang());
    failures.forEach((key, failure) -> h.fake().script(key, failure, FakeAnthropicServer.stream(OK, 2)));
    askAll(new ArrayList<>(failures.keySet())).onComplete(ctx.succeeding(replies -> ctx.verify(() -> {
      for (String key : failures.keySet()) {
        ChatMessage reply = replies.get(key);
        assertThat(reply.status()).as(key).isEqualTo(MessageStatus.COMPLETED);
        assertThat(reply.content()).as(key).isEqualTo("recovered answer");
        assertThat(reply.attempts()).as(key).isEqualTo(2);
        assertThat(h.fake().requestsFor(key)).as(key).hasSize(2);
        // the retried attempt's deltas restart at seq 1, offset 0
        assertThat(h.deltas(reply.id()).stream().filter(d -> d.seq() == 1)).as(key).allMatch(d -> d.offset() == 0);
      }
      List<Recorded> r429 = h.fake().requestsFor("r429");
      assertThat(r429.get(1).receivedAtMs() - r429.get(0).receivedAtMs()).isGreaterThanOrEqualTo(300);
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("an SSE event larger than the parser's bound (1 MiB) fails the attempt as a bad stream instead of growing the buffer; the retry succeeds")
  void oversizedEventIsABadStream(VertxTestContext ctx) {
    h.fake().script("rhuge",
        FakeAnthropicServer.stream(List.of("x".repeat(1_200_000)), 2),
        FakeAnthropicServer.stream(OK, 2));
    h.ask(user, session, "rhuge").onComplete(ctx.succeeding(reply -> ctx.verify(() -> {
      assertThat(reply.status()).isEqualTo(MessageStatus.COMPLETED);
      assertThat(reply.content()).isEqualTo("recovered answer");
      assertThat(reply.attempts()).isEqualTo(2);
      assertThat(h.fake().requestsFor("rhuge")).hasSize(2);
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("retryable failures that never stop end as ai_error after worker.max_attempts attempts")
  void exhaustedRetriesEndAsError(VertxTestContext ctx) {
    h.fake().script("always-overloaded", new Status(529, "overloaded_error", null));
    h.ask(user, session, "always-overloaded").onComplete(ctx.succeeding(reply -> ctx.verify(() -> {
      assertThat(reply.messageType()).isEqualTo(MessageType.AI_ERROR);
      assertThat(reply.status()).isEqualTo(MessageStatus.FAILED);
      assertThat(reply.error().code()).isEqualTo("provider_overloaded");
      assertThat(reply.error().message()).contains("3 attempts").doesNotContain(GenerationHarness.API_KEY);
      assertThat(reply.attempts()).isEqualTo(3);
      assertThat(h.fake().requestsFor("always-overloaded")).hasSize(3);
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("a stream that goes quiet mid-way for longer than claude.idle_timeout_ms fails as provider_timeout on every attempt")
  void stalledStreamTimesOut(VertxTestContext ctx) {
    // message_start, content_block_start and ping come at once, then 700 ms of silence (idle is 400 ms)
    h.fake().script("stall", FakeAnthropicServer.stream(FakeAnthropicServer.words(5), 700));
    h.ask(user, session, "stall").onComplete(ctx.succeeding(reply -> ctx.verify(() -> {
      assertThat(reply.messageType()).isEqualTo(MessageType.AI_ERROR);
      assertThat(reply.error().code()).isEqualTo("provider_timeout");
      assertThat(reply.error().message()).contains("stalled");
      assertThat(reply.attempts()).isEqualTo(3);
      assertThat(h.fake().requestsFor("stall")).hasSize(3);
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("400, 401, 403, 404 and 413 end as ai_error at once, after one request, with a user-safe message")
  void nonRetryableFailuresEndAtOnce(VertxTestContext ctx) {
    Map<String, Scenario> failures = new LinkedHashMap<>();
    failures.put("n400", new Status(400, "invalid_request_error", null));
    failures.put("n401", new Status(401, "authentication_error", null));
    failures.put("n403", new Status(403, "permission_error", null));
    failures.put("n404", new Status(404, "not_found_error", null));
    failures.put("n413", new Status(413, "request_too_large", null));
    failures.forEach((key, failure) -> h.fake().script(key, failure, FakeAnthropicServer.stream(OK, 2)));
    Map<String, String> codes = Map.of(
        "n400", "provider_invalid_request", "n401", "provider_auth", "n403", "provider_auth",
        "n404", "provider_not_found", "n413", "provider_request_too_large");
    askAll(new ArrayList<>(failures.keySet())).onComplete(ctx.succeeding(replies -> ctx.verify(() -> {
      for (String key : failures.keySet()) {
        ChatMessage reply = replies.get(key);
        assertThat(reply.messageType()).as(key).isEqualTo(MessageType.AI_ERROR);
        assertThat(reply.status()).as(key).isEqualTo(MessageStatus.FAILED);
        assertThat(reply.error().code()).as(key).isEqualTo(codes.get(key));
        assertThat(reply.error().message()).as(key)
            .doesNotContain(GenerationHarness.API_KEY).doesNotContain("fake ");
        assertThat(reply.attempts()).as(key).isEqualTo(1);
        assertThat(h.fake().requestsFor(key)).as(key).hasSize(1);
      }
      ctx.completeNow();
    })));
  }
}
