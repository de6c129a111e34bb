package com.aichat.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.OutputStreamAppender;
import com.aichat.ai.FakeAnthropicServer;
import com.aichat.ai.GenerationHarness;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

@ExtendWith(VertxExtension.class)
@DisplayName("JSON logs: one object per line, reply lines carry messageId, sessionId and attempt as fields")
class JsonLogTest {

  @Test
  @DisplayName("the shipped logback.xml picks the JSON encoder when LOG_FORMAT=json, text otherwise")
  void logFormatSelectsEncoder() throws Exception {
    assertThat(rootEncoderOf("json")).isInstanceOf(JsonEncoder.class);
    assertThat(rootEncoderOf(null)).isNotInstanceOf(JsonEncoder.class);
  }

  /** Polls the captured output until it contains {@code text}, or fails after {@code timeoutMs}. */
  private static Future<Void> untilLogged(Vertx vertx, ByteArrayOutputStream out, String text,
      long timeoutMs) {
    Promise<Void> done = Promise.promise();
    long deadline = System.currentTimeMillis() + timeoutMs;
    vertx.setPeriodic(20, id -> {
      if (out.toString(StandardCharsets.UTF_8).contains(text)) {
        vertx.cancelTimer(id);
        done.tryComplete();
      } else if (System.currentTimeMillis() > deadline) {
        vertx.cancelTimer(id);
        done.tryFail("no log line containing '" + text + "' within " + timeoutMs + " ms");
      }
    });
    return done.future();
  }

  private static Object rootEncoderOf(String logFormat) throws Exception {
    LoggerContext lc = new LoggerContext();
    if (logFormat != null) {
      lc.putProperty("LOG_FORMAT", logFormat);
    }
    JoranConfigurator jc = new JoranConfigurator();
    jc.setContext(lc);
    jc.doConfigure(JsonLogTest.class.getResource("/logback.xml"));
    Appender<ILoggingEvent> a = lc.getLogger(Logger.ROOT_LOGGER_NAME).iteratorForAppenders().next();
    Object encoder = ((ConsoleAppender<ILoggingEvent>) a).getEncoder();
    lc.stop();
    return encoder;
  }

  @Test
  @DisplayName("every JSON line of a generated reply parses and has mdc.messageId, mdc.sessionId and mdc.attempt; no secret")
  void replyLinesCarryFields(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    LoggerContext lc = (LoggerContext) LoggerFactory.getILoggerFactory();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    JsonEncoder encoder = new JsonEncoder();
    encoder.setContext(lc);
    encoder.setWithFormattedMessage(true);
    encoder.start();
    OutputStreamAppender<ILoggingEvent> appender = new OutputStreamAppender<>();
    appender.setContext(lc);
    appender.setEncoder(encoder);
    appender.setOutputStream(out);
    appender.start();
    Logger jobLog = lc.getLogger("com.aichat.ai.GenerationJob");
    jobLog.addAppender(appender);
    String user = GenerationHarness.newUserId();
    String[] ids = new String[2];
    GenerationHarness.start(vertx, dir, null)
        .compose(h -> {
          h.fake().script("json-log", FakeAnthropicServer.stream(FakeAnthropicServer.words(10), 2));
          return h.newSession(user).compose(s -> {
            ids[1] = s.id();
            return h.ask(user, s.id(), "json-log please");
          })
          // message.completed reaches the harness before the job writes its "completed" line
          .compose(reply -> untilLogged(vertx, out, reply.id() + " completed", 10_000).map(reply))
          .eventually(h::close);
        })
        .onComplete(ctx.succeeding(reply -> ctx.verify(() -> {
          jobLog.detachAppender(appender);
          appender.stop();
          ids[0] = reply.id();
          List<String> lines = out.toString(StandardCharsets.UTF_8).lines().filter(l -> !l.isBlank()).toList();
          List<JsonObject> mine = lines.stream().map(JsonObject::new)
              .filter(o -> o.getString("formattedMessage", "").contains(ids[0])).toList();
          assertThat(mine).hasSizeGreaterThanOrEqualTo(2); // claimed ... completed
          for (JsonObject line : mine) {
            JsonObject mdc = line.getJsonObject("mdc");
            assertThat(mdc.getString("messageId")).isEqualTo(ids[0]);
            assertThat(mdc.getString("sessionId")).isEqualTo(ids[1]);
            assertThat(mdc.getString("attempt")).isEqualTo("1");
            assertThat(line.getString("level")).isNotBlank();
            assertThat(line.encode()).doesNotContain(GenerationHarness.API_KEY);
          }
          ctx.completeNow();
        })));
  }
}
