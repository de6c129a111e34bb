package com.aichat.ai;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.ai.FakeAnthropicServer.Recorded;
import com.aichat.contract.Addresses;
import com.aichat.contract.ChatMessage;
import com.aichat.contract.ErrorCode;
import com.aichat.contract.MessageStatus;
import com.aichat.persistence.Generations.Completion;
import com.aichat.persistence.Conversations.SendResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(VertxExtension.class)
@DisplayName("Worker reliability: failover, duplicate dispatch, cancel and the per-user cap")
class WorkerReliabilityTest {

  private Vertx vertx;
  private GenerationHarness h;
  private String user;
  private String session;

  @BeforeEach
  void start(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    this.vertx = vertx;
    user = GenerationHarness.newUserId();
    JsonObject overrides = new JsonObject()
        .put("verticles", new JsonObject().put("worker", 1))
        .put("worker", new JsonObject().put("max_per_user", 1));
    GenerationHarness.start(vertx, dir, overrides)
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

  private Future<String> deployExtraWorker() {
    return vertx.deployVerticle(new AiWorkerVerticle(h.app().config().worker(), h.app().config().providers()));
  }

  @Test
  @DisplayName("a worker undeployed mid-stream: the sweep re-dispatches, another worker completes, one final reply")
  void undeployedWorkerFailsOver(VertxTestContext ctx) {
    List<String> full = FakeAnthropicServer.words(20);
    h.fake().script("failover-q",
        FakeAnthropicServer.stream(FakeAnthropicServer.words(400), 10),
        FakeAnthropicServer.stream(full, 2));
    String workerDeployment = h.app().deploymentIds().get(1);
    String[] replyId = new String[1];
    h.send(user, session, "failover-q")
        .compose(r -> {
          replyId[0] = r.reply().id();
          return h.until(() -> h.deltas(replyId[0]).size() >= 2);
        })
        .compose(v -> deployExtraWorker())
        .compose(id -> vertx.undeploy(workerDeployment))
        .compose(v -> h.finalReply(replyId[0]))
        .compose(reply -> {
          ctx.verify(() -> {
            assertThat(reply.status()).isEqualTo(MessageStatus.COMPLETED);
            assertThat(reply.content()).isEqualTo(String.join("", full));
            assertThat(reply.attempts()).isEqualTo(2);
            assertThat(h.fake().requestsFor("failover-q")).hasSize(2);
          });
          // give any leftover of the first worker time to misbehave, then read the reply again
          Promise<Void> settle = Promise.promise();
          vertx.setTimer(600, t -> settle.complete());
          return settle.future().compose(v -> h.store().getMessage(user, session, replyId[0]));
        })
        .onComplete(ctx.succeeding(again -> ctx.verify(() -> {
          assertThat(again.status()).isEqualTo(MessageStatus.COMPLETED);
          assertThat(again.content()).isEqualTo(String.join("", full));
          assertThat(h.finalEvents(replyId[0])).containsExactly("message.completed");
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a worker that cannot renew its lease (store unreachable) stops publishing deltas once the lease has run out")
  void unrenewedLeaseStopsTheStream(VertxTestContext ctx) {
    // 2,000 chunks 10 ms apart: the provider alone would keep the stream going for the whole test
    h.fake().script("stall-q", FakeAnthropicServer.stream(FakeAnthropicServer.words(2000), 10));
    String persistenceDeployment = h.app().deploymentIds().get(0);
    long leaseMs = h.app().config().worker().leaseMs();
    String[] replyId = new String[1];
    int[] counted = new int[1];
    h.send(user, session, "stall-q")
        .compose(r -> {
          replyId[0] = r.reply().id();
          return h.until(() -> h.deltas(replyId[0]).size() >= 3);
        })
        .compose(v -> vertx.undeploy(persistenceDeployment))
        // past the lease (counted from the last checkpoint, which was before the undeploy)
        .compose(v -> vertx.timer(leaseMs + 1000))
        .compose(v -> {
          counted[0] = h.deltas(replyId[0]).size();
          return vertx.timer(800);
        })
        .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
          assertThat(counted[0]).isGreaterThanOrEqualTo(3);
          assertThat(h.deltas(replyId[0])).hasSize(counted[0]);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a worker killed while holding the lease: the sweep re-dispatches after the lease expires and the dead worker's late write is refused")
  void killedWorkerLeaseExpires(VertxTestContext ctx) {
    h.fake().script("killed-q", FakeAnthropicServer.stream(List.of("the ", "real ", "answer"), 2));
    String[] replyId = new String[1];
    // stored without a dispatch, then claimed by a "worker" that dies at once (never renews its lease)
    h.store().sendMessage(user, session, "killed-q", null)
        .compose(r -> {
          replyId[0] = r.reply().id();
          return h.store().claimGeneration(replyId[0], "dead-worker", 300);
        })
        .compose(claim -> {
          ctx.verify(() -> assertThat(claim.claimed()).isTrue());
          return h.finalReply(replyId[0]);
        })
        .compose(reply -> {
          ctx.verify(() -> {
            assertThat(reply.status()).isEqualTo(MessageStatus.COMPLETED);
            assertThat(reply.content()).isEqualTo("the real answer");
            assertThat(reply.attempts()).isEqualTo(2);
          });
          return h.store()
              .completeGeneration(replyId[0], "dead-worker", new Completion("stale", "old", null, "end_turn", null))
              .map(m -> (Throwable) null)
              .recover(Future::succeededFuture);
        })
        .compose(staleFailure -> {
          ctx.verify(() -> assertThat(ErrorCode.fromThrowable(staleFailure)).isEqualTo(ErrorCode.CONFLICT));
          return h.store().getMessage(user, session, replyId[0]);
        })
        .onComplete(ctx.succeeding(again -> ctx.verify(() -> {
          assertThat(again.content()).isEqualTo("the real answer");
          assertThat(h.finalEvents(replyId[0])).containsExactly("message.completed");
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("the same job dispatched many times, to several workers, is generated once")
  void duplicateDispatchDoesTheWorkOnce(VertxTestContext ctx) {
    h.fake().script("dup-q", FakeAnthropicServer.stream(FakeAnthropicServer.words(10), 5));
    String[] replyId = new String[1];
    deployExtraWorker()
        .compose(id -> h.store().sendMessage(user, session, "dup-q", null))
        .compose(r -> {
          replyId[0] = r.reply().id();
          JsonObject job = new JsonObject().put("messageId", replyId[0]);
          for (int i = 0; i < 4; i++) {
            vertx.eventBus().send(Addresses.DISPATCH, job);
            vertx.eventBus().send(Addresses.AI_GENERATE, job);
          }
          return h.finalReply(replyId[0]);
        })
        .compose(reply -> {
          Promise<ChatMessage> settle = Promise.promise();
          vertx.setTimer(500, t -> settle.complete(reply));
          return settle.future();
        })
        .onComplete(ctx.succeeding(reply -> ctx.verify(() -> {
          assertThat(reply.status()).isEqualTo(MessageStatus.COMPLETED);
          assertThat(reply.content()).isEqualTo(String.join("", FakeAnthropicServer.words(10)));
          assertThat(reply.attempts()).isEqualTo(1);
          assertThat(h.fake().requestsFor("dup-q")).hasSize(1);
          assertThat(h.finalEvents(replyId[0])).containsExactly("message.completed");
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("cancel mid-stream stops the generation and keeps the partial text the deltas showed")
  void cancelKeepsPartialText(VertxTestContext ctx) {
    h.fake().script("cancel-q", FakeAnthropicServer.stream(FakeAnthropicServer.words(400), 10));
    String[] replyId = new String[1];
    h.send(user, session, "cancel-q")
        .compose(r -> {
          replyId[0] = r.reply().id();
          return h.until(() -> h.deltas(replyId[0]).size() >= 3);
        })
        .compose(v -> h.store().requestCancel(user, session, replyId[0]))
        .compose(m -> {
          vertx.eventBus().publish(Addresses.AI_CANCEL, new JsonObject().put("messageId", replyId[0]));
          return h.finalReply(replyId[0]);
        })
        .compose(reply -> {
          ctx.verify(() -> {
            assertThat(reply.status()).isEqualTo(MessageStatus.CANCELLED);
            assertThat(reply.content()).isNotEmpty();
            assertThat(reply.content()).isEqualTo(h.deltaText(replyId[0]));
            assertThat(reply.content().length()).isLessThan(String.join("", FakeAnthropicServer.words(400)).length());
            assertThat(h.fake().requestsFor("cancel-q")).hasSize(1);
          });
          return h.store().requestCancel(user, session, replyId[0]).map(x -> (Throwable) null).recover(Future::succeededFuture);
        })
        .onComplete(ctx.succeeding(again -> ctx.verify(() -> {
          assertThat(ErrorCode.fromThrowable(again)).isEqualTo(ErrorCode.CONFLICT);
          assertThat(h.finalEvents(replyId[0])).containsExactly("message.cancelled");
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("the per-user cap holds a user's extra jobs pending while another user proceeds, and all complete")
  void perUserCapHoldsJobsPending(VertxTestContext ctx) {
    h.fake().script("cap-a", FakeAnthropicServer.stream(FakeAnthropicServer.words(30), 10));
    h.fake().script("cap-b", FakeAnthropicServer.stream(FakeAnthropicServer.words(20), 5));
    String other = GenerationHarness.newUserId();
    List<Future<SendResult>> sends = new ArrayList<>();
    Future<String> otherSession = h.newSession(other).map(s -> s.id());
    otherSession
        .compose(os -> {
          for (int i = 0; i < 3; i++) {
            sends.add(h.send(user, session, "cap-a " + i));
          }
          sends.add(h.send(other, os, "cap-b"));
          return Future.all(sends);
        })
        .compose(all -> Future.all(sends.stream().map(f -> h.finalReply(f.result().reply().id())).toList()))
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          for (Future<SendResult> f : sends) {
            ChatMessage reply = h.finalReply(f.result().reply().id()).result();
            assertThat(reply.status()).isEqualTo(MessageStatus.COMPLETED);
          }
          List<Recorded> capped = new ArrayList<>(h.fake().requestsFor("cap-a"));
          assertThat(capped).hasSize(3);
          capped.sort(Comparator.comparingLong(Recorded::receivedAtMs));
          for (int i = 1; i < capped.size(); i++) {
            // never two of the user's generations at once
            assertThat(capped.get(i).receivedAtMs()).isGreaterThanOrEqualTo(h.fake().endedAtMs(capped.get(i - 1)));
          }
          Recorded otherUser = h.fake().requestsFor("cap-b").get(0);
          assertThat(otherUser.receivedAtMs()).isLessThan(h.fake().endedAtMs(capped.get(0)));
          ctx.completeNow();
        })));
  }
}
