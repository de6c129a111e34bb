package com.aichat.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.ai.AiWorkerVerticle;
import com.aichat.ai.FakeAnthropicServer;
import com.aichat.ai.GenerationHarness;
import com.aichat.contract.ChatMessage;
import com.aichat.contract.MessageStatus;
import com.aichat.contract.QueuedEvent;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The local dispatcher past capacity, with the real service and the fake Claude over HTTP: no worker
 * runs at first, so every reply queues; then one worker with a single slot drains the queue.
 */
@ExtendWith(VertxExtension.class)
@DisplayName("The local dispatcher queues replies past capacity, fairly across users")
class FairDispatchTest {

  private Vertx vertx;
  private GenerationHarness h;

  @BeforeEach
  void start(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    this.vertx = vertx;
    JsonObject overrides = new JsonObject()
        .put("verticles", new JsonObject().put("worker", 0))
        .put("worker", new JsonObject().put("max_concurrent", 1));
    GenerationHarness.start(vertx, dir, overrides).onComplete(ctx.succeeding(started -> {
      h = started;
      ctx.completeNow();
    }));
  }

  @AfterEach
  void stop(VertxTestContext ctx) {
    h.close().onComplete(ctx.succeedingThenComplete());
  }

  /** Sends {@code questions} of one user in order, each once the previous one is queued. */
  private Future<List<String>> sendQueued(String user, String session, List<String> questions) {
    List<String> ids = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (String q : questions) {
      chain = chain
          .compose(v -> h.send(user, session, q))
          .compose(r -> {
            ids.add(r.reply().id());
            return h.until(() -> h.queuedEvent(r.reply().id()) != null);
          });
    }
    return chain.map(v -> ids);
  }

  private Future<String> deployOneSlotWorker() {
    return vertx.deployVerticle(new AiWorkerVerticle(h.app().config().worker(), h.app().config().providers()));
  }

  private static List<String> questions(String prefix, int n) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(prefix + "-q" + i);
    }
    return out;
  }

  @Test
  @DisplayName("user A queues six replies, user B then one: B's reply starts within one turn, before A's backlog")
  void anotherUsersFirstReplyWaitsOneTurn(VertxTestContext ctx) {
    String alice = GenerationHarness.newUserId();
    String bob = GenerationHarness.newUserId();
    List<String> aliceQuestions = questions("alice", 6);
    List<String> all = new ArrayList<>();
    String[] sessions = new String[2];
    h.newSession(alice)
        .compose(s -> {
          sessions[0] = s.id();
          return h.newSession(bob);
        })
        .compose(s -> {
          sessions[1] = s.id();
          return sendQueued(alice, sessions[0], aliceQuestions);
        })
        .compose(ids -> {
          all.addAll(ids);
          return sendQueued(bob, sessions[1], List.of("bob-q0"));
        })
        .compose(ids -> {
          all.addAll(ids);
          return deployOneSlotWorker();
        })
        .compose(id -> Future.all(all.stream().map(h::finalReply).toList()))
        .onComplete(ctx.succeeding(done -> ctx.verify(() -> {
          List<String> order = h.fake().requests().stream().map(FakeAnthropicServer.Recorded::lastUserText).toList();
          assertThat(order).hasSize(7);
          // bob waits at most one turn: alice's first reply (a discovery offer for it may be in
          // flight when the worker appears, which lets bob's go first)
          assertThat(order.subList(0, 2)).containsExactlyInAnyOrder("alice-q0", "bob-q0");
          assertThat(order.subList(2, 7)).containsExactlyElementsOf(aliceQuestions.subList(1, 6));
          for (String id : all) {
            assertThat(h.finalEvents(id)).containsExactly("message.completed");
          }
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a reply that must wait gets one message.queued event with its fair position in the queue")
  void queuedEventsCarryFairPositions(VertxTestContext ctx) {
    String alice = GenerationHarness.newUserId();
    String bob = GenerationHarness.newUserId();
    String[] sessions = new String[2];
    List<String> aliceIds = new ArrayList<>();
    h.newSession(alice)
        .compose(s -> {
          sessions[0] = s.id();
          return h.newSession(bob);
        })
        .compose(s -> {
          sessions[1] = s.id();
          return sendQueued(alice, sessions[0], questions("alice", 3));
        })
        .compose(ids -> {
          aliceIds.addAll(ids);
          return sendQueued(bob, sessions[1], List.of("bob-q0"));
        })
        .onComplete(ctx.succeeding(bobIds -> ctx.verify(() -> {
          for (int i = 0; i < 3; i++) {
            QueuedEvent e = h.queuedEvent(aliceIds.get(i));
            assertThat(e.userId()).isEqualTo(alice);
            assertThat(e.sessionId()).isEqualTo(sessions[0]);
            assertThat(e.queue().position()).isEqualTo(i + 1);
            assertThat(e.queue().queued()).isEqualTo(i + 1);
          }
          QueuedEvent b = h.queuedEvent(bobIds.get(0));
          assertThat(b.sessionId()).isEqualTo(sessions[1]);
          // round-robin: bob's first reply comes right after alice's first, ahead of her backlog
          assertThat(b.queue().position()).isEqualTo(2);
          assertThat(b.queue().queued()).isEqualTo(4);
          // no job has finished yet, so there is no measured time per job to estimate from
          assertThat(b.queue().expectedStartMs()).isNull();
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("when the queue drains through one slot, every queued reply of three users completes exactly once")
  void drainingLosesAndDoublesNothing(VertxTestContext ctx) {
    List<String> users = List.of(GenerationHarness.newUserId(), GenerationHarness.newUserId(),
        GenerationHarness.newUserId());
    List<String> ids = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (String user : users) {
      chain = chain
          .compose(v -> h.newSession(user))
          .compose(s -> {
            List<Future<String>> sends = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
              sends.add(h.send(user, s.id(), user + "-q" + i).map(r -> r.reply().id()));
            }
            return Future.all(sends).map(cf -> {
              ids.addAll(cf.<String>list());
              return null;
            });
          });
    }
    chain
        .compose(v -> h.until(() -> ids.stream().allMatch(id -> h.queuedEvent(id) != null)))
        .compose(v -> deployOneSlotWorker())
        // the same replies dispatched again while they wait (as the sweep or a resent request would)
        .compose(id -> {
          ids.forEach(replyId -> vertx.eventBus().send(com.aichat.contract.Addresses.DISPATCH,
              new JsonObject().put("messageId", replyId)));
          return Future.all(ids.stream().map(h::finalReply).toList());
        })
        .compose(done -> {
          // room for a duplicate generation or final event to show up
          Promise<Void> settle = Promise.promise();
          vertx.setTimer(500, t -> settle.complete());
          return settle.future().map(done);
        })
        .onComplete(ctx.succeeding(done -> ctx.verify(() -> {
          assertThat(ids).hasSize(24).doesNotHaveDuplicates();
          for (String id : ids) {
            ChatMessage m = h.finalReply(id).result();
            assertThat(m.status()).isEqualTo(MessageStatus.COMPLETED);
            assertThat(m.attempts()).isEqualTo(1);
            assertThat(h.finalEvents(id)).containsExactly("message.completed");
          }
          assertThat(h.fake().requests()).hasSize(24);
          assertThat(h.fake().maxInFlight()).isEqualTo(1);
          ctx.completeNow();
        })));
  }
}
