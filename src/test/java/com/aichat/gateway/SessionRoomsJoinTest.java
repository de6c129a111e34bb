package com.aichat.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.contract.Addresses;
import com.aichat.contract.ChatMessage;
import com.aichat.contract.DeltaEvent;
import com.aichat.contract.ErrorCode;
import com.aichat.contract.MessageEvent;
import com.aichat.contract.MessageStatus;
import com.aichat.persistence.ChatStore;
import com.aichat.testing.TestApp;
import com.aichat.testing.TestTokens;
import com.corundumstudio.socketio.SocketIOClient;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(VertxExtension.class)
class SessionRoomsJoinTest {

  @Test
  @DisplayName("A join whose socket went away during the ownership check adds no membership (nothing left to leak); a live one joins")
  void joinOfAGoneSocketLeavesNoMember(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    JsonObject persistenceOnly = new JsonObject().put("verticles", new JsonObject()
        .put("worker", 0).put("dispatcher", 0).put("gateway", 0).put("api", 0));
    String userId = TestTokens.newUserId();
    UUID gone = UUID.randomUUID();
    UUID live = UUID.randomUUID();
    List<JsonObject> acks = new ArrayList<>();
    TestApp.start(vertx, dir, persistenceOnly)
        .compose(app -> {
          ChatStore store = ChatStore.client(vertx);
          SessionRooms rooms = new SessionRooms(vertx, store, new SocketSender(new ChannelRegistry(), 100));
          return store.createSession(userId, null, "rooms").compose(s -> rooms
              .join(gone, userId, null, s.id(), () -> false, acks::add)
              .map(v -> (Throwable) null)
              .recover(Future::succeededFuture)
              .compose(refusal -> rooms.join(live, userId, null, s.id(), () -> true, acks::add).map(v -> {
                ctx.verify(() -> {
                  assertThat(ErrorCode.fromThrowable(refusal)).isEqualTo(ErrorCode.UNAUTHENTICATED);
                  assertThat(rooms.isJoined(gone, s.id())).isFalse();
                  assertThat(rooms.isJoined(live, s.id())).isTrue();
                  assertThat(acks).hasSize(1);
                  assertThat(acks.get(0).getBoolean("ok")).isTrue();
                  assertThat(acks.get(0).getJsonObject("session").getString("id")).isEqualTo(s.id());
                });
                return v;
              })));
        })
        .onComplete(ctx.succeedingThenComplete());
  }

  /**
   * The interleaving behind {@code GatewayResumeRaceTest}'s empty texts, pinned: the join's progress
   * request finds no worker (A has just died, B has not registered yet), so the snapshot is the stored
   * checkpoint ({@code ""}, attempt 0); a delta A published while the join was in flight is then beyond
   * it, a gap, and starts a resync; B's {@code message.processing} (attempt 2) follows in the same
   * buffer and restarts the cursor. Before the fix the restart kept the old attempt's resync: B's
   * deltas were held behind it and, when it answered, replayed after A's held delta, which was a gap
   * in the new attempt, so the cursor went stale (or the final event had dropped the cursor first) and
   * the socket kept {@code ""} (or only B's first delta, e.g. {@code "b141 "}). The deltas carry no
   * attempt, as workers of the earlier contract (and the race test's fake workers) publish them, so
   * the attempt fence cannot tell A's delta from B's: only the order of the events can.
   */
  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("A worker change while a resync of the old attempt is in flight: the socket assembles the new attempt in full")
  void workerChangeWhileResyncing(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    JsonObject persistenceOnly = new JsonObject().put("verticles", new JsonObject()
        .put("worker", 0).put("dispatcher", 0).put("gateway", 0).put("api", 0));
    String userId = TestTokens.newUserId();
    UUID sid = UUID.randomUUID();
    List<Object[]> sent = new ArrayList<>();
    Promise<Void> completedSeen = Promise.promise();
    SocketIOClient client = recordingClient(sid, sent, completedSeen);
    int[] progressAsks = {0};
    TestApp.start(vertx, dir, persistenceOnly).onComplete(ctx.succeeding(app -> vertx.getOrCreateContext().runOnContext(v -> {
      ChatStore real = ChatStore.client(vertx);
      real.createSession(userId, null, "resync")
          .compose(s -> real.sendMessage(userId, s.id(), "go", null))
          .onComplete(ctx.succeeding(pair -> {
            ChatMessage reply = pair.reply();
            SessionRooms[] rooms = new SessionRooms[1];
            // worker A streamed "a0 " before the join; while the join reads the active replies it
            // publishes "a1 ", dies, and B's claim is published: all buffered for the syncing member
            ChatStore store = interceptActiveReplies(real, () -> {
              rooms[0].onDelta(new DeltaEvent(userId, reply.sessionId(), reply.id(), 2, 3, "a1 "));
              rooms[0].onMessageEvent(new MessageEvent(MessageEvent.PROCESSING, userId, reply.sessionId(),
                  as(reply, MessageStatus.PROCESSING, "", 2)));
            });
            rooms[0] = new SessionRooms(vertx, store, new SocketSender(new ChannelRegistry(), 100));
            rooms[0].join(sid, userId, client, reply.sessionId(), () -> true, ack -> {
              sent.add(new Object[] {"ack", ack});
              // B registers its progress handler as the ack goes out; asked (by the resync), it
              // answers after its first delta, then streams on and completes
              vertx.eventBus().<JsonObject>consumer(Addresses.aiProgress(reply.id()), m -> {
                progressAsks[0]++;
                rooms[0].onDelta(new DeltaEvent(userId, reply.sessionId(), reply.id(), 1, 0, "b1 "));
                m.reply(new JsonObject().put("messageId", reply.id()).put("seq", 1L).put("offset", 0)
                    .put("text", "b1 ").put("attempt", 2));
                rooms[0].onDelta(new DeltaEvent(userId, reply.sessionId(), reply.id(), 2, 3, "b2 "));
                rooms[0].onMessageEvent(new MessageEvent(MessageEvent.COMPLETED, userId, reply.sessionId(),
                    as(reply, MessageStatus.COMPLETED, "b1 b2 ", 2)));
              });
            }).onFailure(ctx::failNow);
            completedSeen.future().onComplete(ctx.succeeding(done -> ctx.verify(() -> {
              assertThat(progressAsks[0]).as("the gap in A's stream asked B for its text (the resync)").isEqualTo(1);
              // the documented apply rule (docs/events.md), as a client applies it
              String text = null;
              List<String> violations = new ArrayList<>();
              for (Object[] e : sent) {
                JsonObject body = (JsonObject) e[1];
                switch ((String) e[0]) {
                  case "ack" -> text = body.getJsonArray("replies").getJsonObject(0).getString("text");
                  case MessageEvent.PROCESSING -> text = "";
                  case SocketEvents.MESSAGE_DELTA -> {
                    if (body.getLong("offset") == text.length()) {
                      text += body.getString("text");
                    } else {
                      violations.add(body.encode());
                    }
                  }
                  default -> { }
                }
              }
              assertThat(violations).isEmpty();
              assertThat(text).as("text assembled from the snapshot and the deltas").isEqualTo("b1 b2 ");
              ctx.completeNow();
            })));
          }));
    })));
  }

  private static ChatMessage as(ChatMessage reply, MessageStatus status, String content, int attempts) {
    return new ChatMessage(reply.id(), reply.sessionId(), reply.userId(), reply.messageType(), content, status,
        reply.replyTo(), null, "fake", null, null, null, attempts, null, reply.createdAt(), Instant.now());
  }

  /** The real store, with {@code beforeAnswer} run when findActiveReplies has its answer (the join is in flight). */
  private static ChatStore interceptActiveReplies(ChatStore real, Runnable beforeAnswer) {
    return (ChatStore) Proxy.newProxyInstance(ChatStore.class.getClassLoader(), new Class<?>[] {ChatStore.class},
        (proxy, method, args) -> {
          Object out;
          try {
            out = method.invoke(real, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
          if (method.getName().equals("findActiveReplies")) {
            return ((Future<?>) out).onSuccess(x -> beforeAnswer.run());
          }
          return out;
        });
  }

  /** A socket that records every event sent to it, in order; completes {@code completed} at message.completed. */
  private static SocketIOClient recordingClient(UUID sid, List<Object[]> sent, Promise<Void> completed) {
    return (SocketIOClient) Proxy.newProxyInstance(SocketIOClient.class.getClassLoader(),
        new Class<?>[] {SocketIOClient.class}, (proxy, method, args) -> {
          switch (method.getName()) {
            case "sendEvent" -> {
              Object[] data = (Object[]) args[1];
              sent.add(new Object[] {args[0], data[0]});
              if (MessageEvent.COMPLETED.equals(args[0])) {
                completed.tryComplete();
              }
              return null;
            }
            case "getSessionId" -> {
              return sid;
            }
            case "hashCode" -> {
              return System.identityHashCode(proxy);
            }
            case "equals" -> {
              return proxy == args[0];
            }
            case "toString" -> {
              return "recording socket " + sid;
            }
            default -> throw new UnsupportedOperationException(method.getName());
          }
        });
  }
}
