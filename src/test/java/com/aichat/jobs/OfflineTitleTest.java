package com.aichat.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.ai.provider.ModelRequest;
import com.aichat.ai.provider.ModelRequest.Turn;
import com.aichat.ai.provider.OfflineModel;
import com.aichat.contract.ChatSession;
import com.aichat.jobs.title.TitleJobHandler;
import com.aichat.testing.TestApp;
import com.aichat.testing.TestTokens;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Titles without a provider: the offline model's deterministic title, and the cleaning of model answers. */
@DisplayName("Offline titles and title cleaning")
class OfflineTitleTest {

  private static ModelRequest titleRequest(String question) {
    return new ModelRequest("p", List.of(new Turn(Turn.USER, question), new Turn(Turn.ASSISTANT, "a"),
        new Turn(Turn.USER, TitleJobHandler.INSTRUCTION)), -1, "m", 10, ModelRequest.PURPOSE_TITLE);
  }

  @Test
  @DisplayName("the offline title is the first six words of the first question, without surrounding punctuation, capitalised; always the same")
  void offlineTitleIsDeterministic() {
    assertThat(OfflineModel.title(titleRequest("  plan a \"trip\" to Lisbon in spring, please!  ")))
        .isEqualTo("Plan a trip to Lisbon in");
    assertThat(OfflineModel.title(titleRequest("¿qué tal?"))).isEqualTo("Qué tal");
    assertThat(OfflineModel.title(titleRequest("!!! ..."))).isEqualTo("Chat");
    assertThat(OfflineModel.title(titleRequest("hello world"))).isEqualTo(OfflineModel.title(titleRequest("hello world")));
  }

  @Test
  @DisplayName("a model's answer is cleaned to one line: no label, quotes or final punctuation, cut at a word boundary")
  void cleaning() {
    assertThat(TitleJobHandler.clean("\n\nTitle: \"Weekend in Paris.\"\nmore", 80)).isEqualTo("Weekend in Paris");
    assertThat(TitleJobHandler.clean("**Budget   review**", 80)).isEqualTo("Budget review");
    assertThat(TitleJobHandler.clean("one two three four five six", 14)).isEqualTo("one two three");
    assertThat(TitleJobHandler.clean("   ", 80)).isEmpty();
  }

  @Test
  @DisplayName("on the offline model an untitled session is titled from its first question over HTTP")
  void offlineEndToEnd(@TempDir Path dir) throws InterruptedException {
    Vertx vertx = Vertx.vertx();
    try {
      TestApp app = TestApp.start(vertx, dir, new JsonObject().put("ai", new JsonObject().put("provider", "offline"))).await();
      WebClient http = WebClient.create(vertx);
      String token = TestTokens.token(vertx, TestTokens.newUserId());
      HttpResponse<Buffer> created = http.request(HttpMethod.POST, app.httpPort(), "127.0.0.1", "/chats")
          .bearerTokenAuthentication(token).send().await();
      String sid = created.bodyAsJsonObject().getString("id");
      HttpResponse<Buffer> sent = http.request(HttpMethod.POST, app.httpPort(), "127.0.0.1", "/chats/" + sid + "/messages")
          .bearerTokenAuthentication(token)
          .sendJsonObject(new JsonObject().put("content", "how do tides work on the moon and earth")).await();
      assertThat(sent.statusCode()).isEqualTo(202);
      JsonObject session = null;
      for (int i = 0; i < 1000; i++) {
        session = http.request(HttpMethod.GET, app.httpPort(), "127.0.0.1", "/chats/" + sid)
            .bearerTokenAuthentication(token).send().await().bodyAsJsonObject();
        if (ChatSession.TITLE_AUTO.equals(session.getString("titleSource"))) {
          break;
        }
        Thread.sleep(10);
      }
      assertThat(session.getString("title")).isEqualTo("How do tides work on the");
      assertThat(session.getString("titleSource")).isEqualTo(ChatSession.TITLE_AUTO);
    } finally {
      vertx.close().await();
    }
  }
}
