package com.aichat.ai;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.contract.Addresses;
import com.aichat.contract.ChatMessage;
import com.aichat.contract.DispatchRequest;
import com.aichat.contract.MessageStatus;
import com.aichat.persistence.Conversations.SendResult;
import com.aichat.testing.TestApp;
import com.aichat.testing.TestTokens;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 10, finding 13: a send that races its session's delete can store its pair after the delete
 * removed the session's messages. The reply must end without a model call. The race's outcome is set
 * up exactly (the pair stored, the session document gone), then the real worker, dispatcher and sweep
 * run against the fake Claude, which counts its requests.
 */
@ExtendWith(VertxExtension.class)
@DisplayName("A reply left behind by a send that raced its session's delete is dropped without calling the model")
class DeletedSessionReplyTest {

  private GenerationHarness h;
  private MongoClient direct;
  private WebClient http;

  @AfterEach
  void stop() {
    if (http != null) {
      http.close();
    }
    if (direct != null) {
      direct.close().await();
    }
    if (h != null) {
      h.close().await();
    }
  }

  @Test
  @DisplayName("dispatched or swept, the orphan reply is claimed, dropped with its question, and the provider sees no request; a live session's reply is still generated")
  void orphanReplyIsDroppedWithoutProviderCall(Vertx vertx, @TempDir Path dir) throws Exception {
    int mongoPort = TestApp.freePort();
    h = GenerationHarness.start(vertx, dir,
        new JsonObject().put("mongo", new JsonObject().put("embedded_port", mongoPort))).await();
    direct = MongoClient.create(vertx, new JsonObject()
        .put("connection_string", "mongodb://127.0.0.1:" + mongoPort).put("db_name", "chat"));
    http = WebClient.create(vertx);
    String user = TestTokens.newUserId();
    String token = TestTokens.token(vertx, user);

    // The race's end state, twice: one orphan the send dispatches, one only the sweep finds.
    String doomed = h.newSession(user).await().id();
    String forgotten = h.newSession(user).await().id();
    SendResult dispatched = h.store().sendMessage(user, doomed, "question for a deleted chat", null).await();
    SendResult swept = h.store().sendMessage(user, forgotten, "another one", null).await();
    for (String id : new String[] {doomed, forgotten}) {
      direct.removeDocument("chatsessions", new JsonObject().put("_id", new JsonObject().put("$oid", id))).await();
    }
    vertx.eventBus().send(Addresses.DISPATCH, new DispatchRequest(dispatched.reply().id(), user, doomed).toJson());

    JsonObject orphans = new JsonObject().put("chatSessionId", new JsonObject().put("$in", new io.vertx.core.json.JsonArray()
        .add(new JsonObject().put("$oid", doomed)).add(new JsonObject().put("$oid", forgotten))));
    long deadline = System.currentTimeMillis() + 20_000;
    while (direct.count("prompthistories", orphans).await() > 0 && System.currentTimeMillis() < deadline) {
      TimeUnit.MILLISECONDS.sleep(50);
    }
    assertThat(h.fake().requests()).as("provider requests for the orphan replies").isEmpty();
    assertThat(direct.count("prompthistories", orphans).await()).as("messages left under the deleted sessions").isZero();
    int status = http.get(h.app().httpPort(), "127.0.0.1",
            "/chats/" + forgotten + "/messages/" + swept.reply().id())
        .bearerTokenAuthentication(token).send().await().statusCode();
    assertThat(status).isEqualTo(404);

    // The fake does answer: a reply in a live session is generated, and it is the only request.
    String live = h.newSession(user).await().id();
    ChatMessage reply = h.ask(user, live, "a live question").await();
    assertThat(reply.status()).isEqualTo(MessageStatus.COMPLETED);
    assertThat(h.fake().requests()).hasSize(1);
    assertThat(h.fake().requests().get(0).lastUserText()).isEqualTo("a live question");
    assertThat(h.finalEvents(dispatched.reply().id())).isEmpty();
    assertThat(h.finalEvents(swept.reply().id())).isEmpty();
  }
}
