package com.aichat.api;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.aichat.auth.GoogleOidcVerifier;
import com.aichat.testing.FakeCloudTasksServer;
import com.aichat.testing.TestApp;
import com.aichat.testing.TestOidcIssuer;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
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
import org.slf4j.LoggerFactory;

/**
 * Issue 10 finding 8: attacker-controlled values (the OIDC token's {@code kid}/{@code alg}/{@code iss},
 * Cloud Tasks headers) reach the log before the signature is checked. None may start a new log line.
 */
@ExtendWith(VertxExtension.class)
class LogInjectionTest {

  static final String SA = "chat-tasks@demo-project.iam.gserviceaccount.com";
  static final String FORGED = "x\nERROR c.a.a.HttpApiVerticle - FORGED admin login\r\u2028";

  @TempDir Path dataDir;
  final TestOidcIssuer issuer = new TestOidcIssuer();
  final ListAppender<ILoggingEvent> captured = new ListAppender<>();
  final Logger handlerLog = (Logger) LoggerFactory.getLogger(CloudTasksWorkerHandler.class);
  FakeCloudTasksServer fake;

  @BeforeEach
  void start(Vertx vertx, VertxTestContext ctx) {
    captured.start();
    handlerLog.addAppender(captured);
    fake = new FakeCloudTasksServer(vertx, issuer);
    fake.start().onComplete(ctx.succeedingThenComplete());
  }

  @AfterEach
  void stop(VertxTestContext ctx) {
    handlerLog.detachAppender(captured);
    fake.close().onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("A kid, alg or issuer with line breaks, and a task-name header with a tab, are logged quoted and escaped")
  void untrustedValuesCannotForgeLogLines(Vertx vertx, VertxTestContext ctx) {
    JsonObject claims = TestOidcIssuer.claims(SA, "aud");
    List<String> tokens = List.of(
        issuer.signWithHeader(new JsonObject().put("alg", "RS256").put("kid", FORGED), claims),
        issuer.signWithHeader(new JsonObject().put("alg", FORGED).put("kid", TestOidcIssuer.KID), claims),
        issuer.signWithHeader(new JsonObject().put("alg", "RS256").put("kid", TestOidcIssuer.KID),
            claims.copy().put("iss", FORGED)));
    WebClient http = WebClient.create(vertx);
    String body = new JsonObject().put("messageId", "0123456789abcdef01234567").encode();
    TestApp.start(vertx, dataDir, new JsonObject()
            .put("cloud_tasks", new JsonObject()
                .put("worker_endpoint_enabled", true)
                .put("service_account_email", SA)
                .put("oidc_jwks_url", fake.jwksUrl())))
        .compose(app -> io.vertx.core.Future.all(tokens.stream()
            .map(t -> http.post(app.httpPort(), "127.0.0.1", "/internal/chat-ai-worker")
                .putHeader("Authorization", "Bearer " + t)
                .putHeader("X-CloudTasks-TaskName", "task\tforged")
                .sendBuffer(Buffer.buffer(body)))
            .toList()))
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          for (int i = 0; i < tokens.size(); i++) {
            assertThat(all.<io.vertx.ext.web.client.HttpResponse<Buffer>>resultAt(i).statusCode()).isEqualTo(401);
          }
          List<String> lines = captured.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
          assertThat(lines.stream().filter(l -> l.contains("refused"))).hasSize(3);
          assertThat(lines).allSatisfy(l -> assertThat(l).doesNotContain("\n", "\r", "\u2028", "\t"));
          assertThat(lines).anySatisfy(l -> assertThat(l).contains("unknown key id \"x\\nERROR"));
          assertThat(lines).anySatisfy(l -> assertThat(l).contains("algorithm \"x\\nERROR"));
          assertThat(lines).anySatisfy(l -> assertThat(l).contains("issuer \"x\\nERROR"));
          assertThat(lines).anySatisfy(l -> assertThat(l).contains("task \"task\\tforged\""));
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("The verifier's refusal reasons quote a hostile kid (no raw line break in what the caller logs)")
  void verifierReasonIsEscaped(Vertx vertx, VertxTestContext ctx) {
    GoogleOidcVerifier verifier = new GoogleOidcVerifier(vertx, fake.jwksUrl(), "aud", SA, java.time.Clock.systemUTC());
    verifier.verify(issuer.signWithHeader(new JsonObject().put("alg", "RS256").put("kid", FORGED),
            TestOidcIssuer.claims(SA, "aud")))
        .onComplete(ctx.failing(err -> ctx.verify(() -> {
          assertThat(err.getMessage()).doesNotContain("\n").startsWith("unknown key id \"x\\nERROR");
          verifier.close();
          ctx.completeNow();
        })));
  }
}
