package com.aichat.ai;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.ai.FakeAnthropicServer.Recorded;
import com.aichat.contract.Addresses;
import com.aichat.contract.ChatMessage;
import com.aichat.contract.DeltaEvent;
import com.aichat.contract.MessageStatus;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Delta timing semantics: the first text of a reply is published at once, what follows is coalesced,
 * and a buffer that reaches {@code worker.delta_max_chars} is flushed early. The coalescing window
 * ({@code delta_interval_ms}) and the checkpoint interval are set far longer than each stream, so no
 * timer fires mid-stream: every delta seen here was published by the leading edge, the size limit, or
 * the end of the stream. The delta contract ({@code seq} from 1, contiguous offsets) is checked too.
 */
@ExtendWith(VertxExtension.class)
@DisplayName("Delta cadence: leading-edge first delta, coalescing after it, early flush at the size limit")
class DeltaCadenceTest {

  /** Chunks of exactly five characters: "c000 ", "c001 ", ... */
  private static List<String> fiveCharChunks(int n) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(String.format("c%03d ", i));
    }
    return out;
  }

  private static JsonObject slowWindows(int deltaMaxChars) {
    return new JsonObject().put("worker", new JsonObject()
        .put("delta_interval_ms", 10_000)
        .put("delta_max_chars", deltaMaxChars)
        .put("lease_ms", 60_000)
        .put("checkpoint_interval_ms", 30_000));
  }

  private static void assertContract(List<DeltaEvent> deltas, String content) {
    long offset = 0;
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < deltas.size(); i++) {
      assertThat(deltas.get(i).seq()).isEqualTo(i + 1);
      assertThat(deltas.get(i).offset()).isEqualTo(offset);
      offset += deltas.get(i).text().length();
      text.append(deltas.get(i).text());
    }
    assertThat(text.toString()).isEqualTo(content);
  }

  @Test
  @DisplayName("the first text is published at once, while the provider is still streaming; the rest is coalesced into one delta")
  void firstTextIsPublishedAtOnce(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    List<String> chunks = fiveCharChunks(20);
    Map<String, Boolean> firstWhileStreaming = new ConcurrentHashMap<>();
    GenerationHarness.start(vertx, dir, slowWindows(1_000_000)).compose(h -> {
      h.fake().script("leading", FakeAnthropicServer.stream(chunks, 20));
      vertx.eventBus().<JsonObject>consumer(Addresses.EVENTS_DELTA, m -> {
        if (m.body().getLong("seq") == 1) {
          Recorded req = h.fake().requestsFor("leading").get(0);
          firstWhileStreaming.put(m.body().getString("messageId"), h.fake().endedAtMs(req) == null);
        }
      });
      String user = GenerationHarness.newUserId();
      return h.newSession(user).compose(s -> h.ask(user, s.id(), "leading")).map(reply -> {
        ctx.verify(() -> {
          assertThat(reply.status()).isEqualTo(MessageStatus.COMPLETED);
          List<DeltaEvent> deltas = h.deltas(reply.id());
          assertContract(deltas, reply.content());
          assertThat(deltas).hasSize(2);
          assertThat(deltas.get(0).text()).isEqualTo(chunks.get(0));
          assertThat(deltas.get(1).text()).isEqualTo(String.join("", chunks.subList(1, chunks.size())));
          assertThat(firstWhileStreaming).containsEntry(reply.id(), true);
        });
        return h;
      });
    }).compose(GenerationHarness::close).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("buffered text is flushed as soon as it reaches worker.delta_max_chars: with a limit of two chunks, every delta after the first holds exactly two")
  void sizeLimitFlushesEarly(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    List<String> chunks = fiveCharChunks(21);
    GenerationHarness.start(vertx, dir, slowWindows(10)).compose(h -> {
      h.fake().script("sized", FakeAnthropicServer.stream(chunks, 2));
      String user = GenerationHarness.newUserId();
      return h.newSession(user).compose(s -> h.ask(user, s.id(), "sized")).map(reply -> {
        ctx.verify(() -> {
          assertThat(reply.content()).isEqualTo(String.join("", chunks));
          List<DeltaEvent> deltas = h.deltas(reply.id());
          assertContract(deltas, reply.content());
          // the leading-edge delta, then 20 chunks in flushes of exactly 10 characters
          assertThat(deltas).hasSize(11);
          assertThat(deltas.get(0).text()).isEqualTo("c000 ");
          assertThat(deltas.subList(1, deltas.size())).allMatch(d -> d.text().length() == 10);
        });
        return h;
      });
    }).compose(GenerationHarness::close).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("one character below the limit does not flush: with a limit of 11, each later delta holds three chunks")
  void belowTheLimitKeepsCoalescing(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    List<String> chunks = fiveCharChunks(19);
    GenerationHarness.start(vertx, dir, slowWindows(11)).compose(h -> {
      h.fake().script("sized11", FakeAnthropicServer.stream(chunks, 2));
      String user = GenerationHarness.newUserId();
      return h.newSession(user).compose(s -> h.ask(user, s.id(), "sized11")).map(reply -> {
        ctx.verify(() -> {
          List<DeltaEvent> deltas = h.deltas(reply.id());
          assertContract(deltas, reply.content());
          // 1 leading chunk, then 18 chunks in flushes of 15 characters (10 < 11, 15 >= 11)
          assertThat(deltas).hasSize(7);
          assertThat(deltas.subList(1, deltas.size())).allMatch(d -> d.text().length() == 15);
        });
        return h;
      });
    }).compose(GenerationHarness::close).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("checkpoints do not follow deltas: a delta per chunk still gives checkpoints only on their own interval")
  void checkpointsAreNotPerDelta(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    List<String> chunks = fiveCharChunks(30);
    AtomicInteger checkpoints = new AtomicInteger();
    vertx.eventBus().addOutboundInterceptor(dc -> {
      if (Addresses.GENERATIONS.equals(dc.message().address())
          && "checkpointGeneration".equals(dc.message().headers().get(Addresses.ACTION_HEADER))) {
        checkpoints.incrementAndGet();
      }
      dc.next();
    });
    // every chunk reaches the 5-character limit, so every chunk is its own delta
    JsonObject overrides = slowWindows(5);
    overrides.getJsonObject("worker").put("checkpoint_interval_ms", 1000).put("lease_ms", 30_000);
    GenerationHarness.start(vertx, dir, overrides).compose(h -> {
      h.fake().script("per-chunk", FakeAnthropicServer.stream(chunks, 5));
      String user = GenerationHarness.newUserId();
      return h.newSession(user).compose(s -> h.ask(user, s.id(), "per-chunk")).map(reply -> {
        ctx.verify(() -> {
          List<DeltaEvent> deltas = h.deltas(reply.id());
          assertContract(deltas, reply.content());
          assertThat(deltas).hasSize(30);
          // ~0.2 s of streaming against a 1 s interval: a handful at most, never one per delta
          assertThat(checkpoints.get()).isLessThan(deltas.size() / 3);
        });
        return h;
      });
    }).compose(GenerationHarness::close).onComplete(ctx.succeedingThenComplete());
  }
}
