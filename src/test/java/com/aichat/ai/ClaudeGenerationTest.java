package com.aichat.ai;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.ai.FakeAnthropicServer.Recorded;
import com.aichat.contract.ChatMessage;
import com.aichat.contract.DeltaEvent;
import com.aichat.contract.MessageStatus;
import com.aichat.contract.MessageType;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(VertxExtension.class)
@DisplayName("Generation through the Claude provider against a fake Messages API")
class ClaudeGenerationTest {

  private GenerationHarness h;

  @BeforeEach
  void start(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    GenerationHarness.start(vertx, dir, null).onComplete(ctx.succeeding(started -> {
      h = started;
      ctx.completeNow();
    }));
  }

  @AfterEach
  void stop(VertxTestContext ctx) {
    h.close().onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a reply completes with the streamed text, equal to the concatenation of its coalesced deltas")
  void replyEqualsDeltas(VertxTestContext ctx) {
    List<String> chunks = FakeAnthropicServer.words(60);
    h.fake().script("stream-me", new FakeAnthropicServer.Stream(chunks, 1, true, false));
    String user = GenerationHarness.newUserId();
    h.newSession(user)
        .compose(s -> h.ask(user, s.id(), "please stream-me a report"))
        .onComplete(ctx.succeeding(reply -> ctx.verify(() -> {
          String expected = String.join("", chunks);
          assertThat(reply.status()).isEqualTo(MessageStatus.COMPLETED);
          assertThat(reply.messageType()).isEqualTo(MessageType.AI_REPORT);
          assertThat(reply.content()).isEqualTo(expected);
          assertThat(h.deltaText(reply.id())).isEqualTo(expected);
          List<DeltaEvent> deltas = h.deltas(reply.id());
          // coalesced: fewer bus events than provider chunks, seq contiguous from 1, offsets exact
          assertThat(deltas.size()).isLessThan(chunks.size()).isGreaterThan(0);
          long offset = 0;
          for (int i = 0; i < deltas.size(); i++) {
            assertThat(deltas.get(i).seq()).isEqualTo(i + 1);
            assertThat(deltas.get(i).offset()).isEqualTo(offset);
            offset += deltas.get(i).text().length();
          }
          assertThat(reply.model()).isEqualTo(FakeAnthropicServer.MODEL);
          assertThat(reply.stopReason()).isEqualTo("end_turn");
          assertThat(reply.usage().inputTokens()).isEqualTo(25);
          assertThat(reply.usage().outputTokens()).isEqualTo(chunks.size());
          assertThat(reply.context().messagesUsed()).isZero();
          assertThat(reply.context().messagesDropped()).isZero();

          List<Recorded> requests = h.fake().requestsFor("stream-me");
          assertThat(requests).hasSize(1);
          Recorded req = requests.get(0);
          assertThat(req.headers().get("x-api-key")).isEqualTo(GenerationHarness.API_KEY);
          assertThat(req.headers().get("anthropic-version")).isEqualTo("2023-06-01");
          assertThat(req.headers().get("content-type")).startsWith("application/json");
          assertThat(req.body().getBoolean("stream")).isTrue();
          assertThat(req.body().getString("model")).isEqualTo(FakeAnthropicServer.MODEL);
          assertThat(req.body().getInteger("max_tokens")).isEqualTo(2048);
          assertThat(req.body().getString("system")).isEqualTo("You are a test assistant.");
          assertThat(req.body().getJsonArray("messages")).hasSize(1);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a follow-up carries the earlier turns in order, merged by role, without ai_errors, with a cache breakpoint")
  void followUpCarriesHistory(VertxTestContext ctx) {
    h.fake().script("first-q", FakeAnthropicServer.stream(List.of("first ", "answer"), 2));
    h.fake().script("second-q", new FakeAnthropicServer.Status(400, "invalid_request_error", null));
    h.fake().script("third-q", FakeAnthropicServer.stream(List.of("third answer"), 2));
    String user = GenerationHarness.newUserId();
    String[] session = new String[1];
    h.newSession(user)
        .compose(s -> {
          session[0] = s.id();
          return h.ask(user, s.id(), "first-q: what is a lease?");
        })
        .compose(r -> h.ask(user, session[0], "second-q: and a claim?"))
        .compose(failed -> {
          ctx.verify(() -> assertThat(failed.messageType()).isEqualTo(MessageType.AI_ERROR));
          return h.ask(user, session[0], "third-q: summarise");
        })
        .onComplete(ctx.succeeding(reply -> ctx.verify(() -> {
          assertThat(reply.status()).isEqualTo(MessageStatus.COMPLETED);
          assertThat(reply.context().messagesUsed()).isEqualTo(3);
          JsonArray messages = h.fake().requestsFor("third-q").get(0).body().getJsonArray("messages");
          // u1, a1, then u2 (its reply failed: excluded) merged with the new question u3
          assertThat(messages).hasSize(3);
          JsonObject m0 = messages.getJsonObject(0);
          JsonObject m1 = messages.getJsonObject(1);
          JsonObject m2 = messages.getJsonObject(2);
          assertThat(m0.getString("role")).isEqualTo("user");
          assertThat(Recorded.textOf(m0)).isEqualTo("first-q: what is a lease?");
          assertThat(m1.getString("role")).isEqualTo("assistant");
          assertThat(Recorded.textOf(m1)).isEqualTo("first answer");
          assertThat(m2.getString("role")).isEqualTo("user");
          assertThat(Recorded.textOf(m2)).isEqualTo("second-q: and a claim?\n\nthird-q: summarise");
          // the breakpoint sits on the last block of the history prefix (the turn before the final user turn)
          JsonArray blocks = m1.getJsonArray("content");
          assertThat(blocks.getJsonObject(blocks.size() - 1).getJsonObject("cache_control"))
              .isEqualTo(new JsonObject().put("type", "ephemeral"));
          assertThat(m0.getValue("content")).isInstanceOf(String.class);
          assertThat(m2.getValue("content")).isInstanceOf(String.class);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("mid-stream, the progress address answers the text so far, consistent with the published deltas")
  void progressMatchesDeltas(Vertx vertx, VertxTestContext ctx) {
    List<String> chunks = FakeAnthropicServer.words(150);
    // written to the socket 3 bytes at a time: events and UTF-8 split across HTTP chunks; 20 ms apart,
    // so the reply (3 s) is still running when a loaded machine gets round to asking for progress
    h.fake().script("progress-q", new FakeAnthropicServer.Stream(chunks, 20, false, true));
    String user = GenerationHarness.newUserId();
    String[] replyId = new String[1];
    h.newSession(user)
        .compose(s -> h.send(user, s.id(), "progress-q"))
        .compose(r -> {
          replyId[0] = r.reply().id();
          io.vertx.core.Promise<Void> p = io.vertx.core.Promise.promise();
          vertx.setPeriodic(10, t -> {
            if (h.deltas(replyId[0]).size() >= 3) {
              vertx.cancelTimer(t);
              p.tryComplete();
            }
          });
          return p.future();
        })
        .compose(v -> vertx.eventBus().<JsonObject>request(
            com.aichat.contract.Addresses.aiProgress(replyId[0]), new JsonObject()))
        .compose(progress -> {
          JsonObject body = progress.body();
          long seq = body.getLong("seq");
          io.vertx.core.Promise<JsonObject> p = io.vertx.core.Promise.promise();
          // the deltas up to that seq may still be on their way to this test's consumer
          vertx.setPeriodic(5, t -> {
            if (h.deltas(replyId[0]).stream().filter(d -> d.seq() <= seq).count() == seq) {
              vertx.cancelTimer(t);
              p.tryComplete(body);
            }
          });
          return p.future();
        })
        .compose(body -> {
          long seq = body.getLong("seq");
          StringBuilder upToSeq = new StringBuilder();
          h.deltas(replyId[0]).stream().filter(d -> d.seq() <= seq)
              .sorted((a, b) -> Long.compare(a.seq(), b.seq())).forEach(d -> upToSeq.append(d.text()));
          ctx.verify(() -> {
            assertThat(body.getString("messageId")).isEqualTo(replyId[0]);
            assertThat(seq).isGreaterThanOrEqualTo(3);
            assertThat(body.getLong("offset")).isZero();
            assertThat(body.getString("text")).isEqualTo(upToSeq.toString());
          });
          return h.finalReply(replyId[0]);
        })
        .onComplete(ctx.succeeding(reply -> ctx.verify(() -> {
          assertThat(reply.content()).isEqualTo(String.join("", chunks));
          assertThat(h.deltaText(reply.id())).isEqualTo(reply.content());
          ctx.completeNow();
        })));
  }
}
