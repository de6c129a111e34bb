package com.aichat.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.contract.ErrorCode;
import com.aichat.persistence.ChatStore;
import com.aichat.testing.TestApp;
import com.aichat.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
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
}
