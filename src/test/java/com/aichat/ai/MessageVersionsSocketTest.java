package com.aichat.ai;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.contract.MessageStatus;
import com.aichat.gateway.NodeScenario;
import com.aichat.testing.TestTokens;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Continue, regenerate and feedback as the official socket.io-client sees them through the real gateway. */
@ExtendWith(VertxExtension.class)
@DisplayName("Versions over Socket.IO: a continue's deltas continue the text, a regenerate restarts it, feedback arrives as message.updated")
class MessageVersionsSocketTest {

  private GenerationHarness h;
  private UserHttp api;
  private String token;

  @AfterEach
  void stop(VertxTestContext ctx) {
    api.close();
    h.close().onComplete(ctx.succeedingThenComplete());
  }

  private static Predicate<JsonObject> finalWith(int version, String ending) {
    return m -> m.getInteger("version") == version && MessageStatus.fromWire(m.getString("status")).isFinal()
        && m.getString("content").endsWith(ending);
  }

  @Test
  @Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
  @DisplayName("the socket applies every delta with the documented rule, with no gap or overlap across continue and regenerate")
  void socketSeesContiguousVersions(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    String userId = TestTokens.newUserId();
    token = TestTokens.token(vertx, userId);
    AtomicReference<NodeScenario> node = new AtomicReference<>();
    String[] reply = new String[2];
    GenerationHarness.start(vertx, dir, null)
        .compose(started -> {
          h = started;
          api = new UserHttp(vertx, h, token);
          h.fake().script("sock-q", new FakeAnthropicServer.Truncated(List.of("Half ", "way "), 5),
              FakeAnthropicServer.stream(List.of("there", "."), 5),
              FakeAnthropicServer.stream(List.of("Brand ", "new."), 5));
          return api.call(HttpMethod.POST, "/chats", new JsonObject().put("title", "socket versions"));
        })
        .compose(created -> {
          String session = created.body().getString("id");
          String messages = "/chats/" + session + "/messages";
          JsonObject args = new JsonObject()
              .put("url", "http://127.0.0.1:" + h.app().gatewayPort())
              .put("token", token)
              .put("sessionId", session)
              .put("settleMs", 300);
          node.set(NodeScenario.start(vertx, "versions", args, ready ->
              api.call(HttpMethod.POST, messages, new JsonObject().put("content", "sock-q"))
                  .compose(r -> {
                    reply[1] = r.body().getJsonObject("reply").getString("id");
                    reply[0] = messages + "/" + reply[1];
                    return api.pollUntil(reply[0], finalWith(1, "way "));
                  })
                  .compose(m -> api.call(HttpMethod.POST, reply[0] + "/continue", null))
                  .compose(r -> api.pollUntil(reply[0], finalWith(1, "there.")))
                  .compose(m -> api.call(HttpMethod.POST, reply[0] + "/regenerate", null))
                  .compose(r -> api.pollUntil(reply[0], finalWith(2, "new.")))
                  .compose(m -> api.call(HttpMethod.PUT, reply[0] + "/feedback", new JsonObject().put("rating", "up")))
                  .onSuccess(r -> node.get().send("STOP"))
                  .onFailure(ctx::failNow)));
          return node.get().result();
        })
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          JsonObject v = r;
          assertThat(v.getJsonArray("violations")).as("deltas not at the text's end").isEmpty();
          List<JsonObject> gens = v.getJsonArray("generations").stream().map(o -> (JsonObject) o)
              .filter(g -> g.getString("id").equals(reply[1])).toList();
          assertThat(gens).hasSize(3);
          assertThat(gens.get(0).getInteger("start")).isZero();
          assertThat(gens.get(0).getString("text")).isEqualTo("Half way ");
          assertThat(gens.get(1).getInteger("start")).isEqualTo(9);
          assertThat(gens.get(1).getInteger("firstOffset")).isEqualTo(9);
          assertThat(gens.get(1).getString("text")).isEqualTo("Half way there.");
          assertThat(gens.get(2).getInteger("version")).isEqualTo(2);
          assertThat(gens.get(2).getInteger("firstOffset")).isZero();
          assertThat(gens.get(2).getString("text")).isEqualTo("Brand new.");
          JsonArray updated = v.getJsonArray("updated");
          List<JsonObject> ups = updated.stream().map(o -> (JsonObject) o).toList();
          assertThat(ups).anyMatch(u -> "pending".equals(u.getString("status")) && Integer.valueOf(9).equals(u.getInteger("continueOffset")));
          assertThat(ups).anyMatch(u -> "pending".equals(u.getString("status")) && u.getInteger("version") == 2);
          assertThat(ups).anyMatch(u -> u.getJsonObject("feedback") != null
              && "up".equals(u.getJsonObject("feedback").getString("rating")));
          assertThat(v.getJsonObject("texts").getString(reply[1])).isEqualTo("Brand new.");
          assertThat(v.getJsonArray("finals")).hasSize(3);
          ctx.completeNow();
        })));
  }
}
