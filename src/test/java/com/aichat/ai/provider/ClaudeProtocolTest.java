package com.aichat.ai.provider;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.ai.FakeAnthropicServer;
import com.aichat.ai.FakeAnthropicServer.Recorded;
import com.aichat.config.ConfigReader;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SelfSignedCertificate;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Which HTTP version the Claude client speaks, against the fake Messages API over real sockets: TLS
 * with ALPN offering h2, TLS offering only http/1.1, and plain http. The client trusts the fake's
 * self-signed certificate; nothing else differs from production.
 */
@ExtendWith(VertxExtension.class)
@DisplayName("Claude client protocol: HTTP/2 by ALPN on https with HTTP/1.1 fallback, HTTP/1.1 (no h2c) on http")
class ClaudeProtocolTest {

  private static SelfSignedCertificate cert;

  @BeforeAll
  static void certificate() {
    cert = SelfSignedCertificate.create("localhost");
  }

  @AfterAll
  static void deleteCertificate() {
    cert.delete();
  }

  private static ProviderSettings.Claude settings(String baseUrl, int maxConnections, int workerMaxConcurrent) {
    JsonObject claude = new JsonObject()
        .put("api_key", "sk-test")
        .put("base_url", baseUrl)
        .put("model", FakeAnthropicServer.MODEL)
        .put("max_connections", maxConnections)
        .put("first_event_timeout_ms", 2000)
        .put("idle_timeout_ms", 2000);
    return ProviderSettings.from(new ConfigReader(new JsonObject(), "ai"), new ConfigReader(claude, "claude"),
        new ConfigReader(new JsonObject(), "offline"), workerMaxConcurrent).claude();
  }

  private static ClaudeClient client(Vertx vertx, ProviderSettings.Claude cfg) {
    return new ClaudeClient(vertx, cfg, options -> options.setTrustOptions(cert.trustOptions()));
  }

  private static HttpServerOptions tls(List<HttpVersion> alpn) {
    return new HttpServerOptions().setSsl(true).setUseAlpn(true).setAlpnVersions(alpn)
        .setKeyCertOptions(cert.keyCertOptions());
  }

  private static ModelRequest question(String text) {
    return new ModelRequest("system", List.of(new ModelRequest.Turn(ModelRequest.Turn.USER, text)), -1);
  }

  /** Streams {@code n} questions at once through one client; answers the texts received. */
  private static Future<List<String>> streamAll(ClaudeClient client, String key, int n) {
    List<Future<String>> texts = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      StringBuilder text = new StringBuilder();
      texts.add(client.stream(question(key + " " + i), text::append).result().map(r -> text.toString()));
    }
    return Future.all(texts).map(all -> all.list());
  }

  @Test
  @DisplayName("https offering h2: the request goes over HTTP/2, and one connection carries several streams at once")
  void http2WhenOffered(Vertx vertx, VertxTestContext ctx) {
    FakeAnthropicServer fake = new FakeAnthropicServer(vertx);
    fake.start(tls(List.of(HttpVersion.HTTP_2, HttpVersion.HTTP_1_1)))
        .compose(f -> {
          fake.script("h2", FakeAnthropicServer.stream(FakeAnthropicServer.words(10), 50));
          // max_connections 1, yet 4 streams overlap: HTTP/2 multiplexes them on the one connection
          ClaudeClient client = client(vertx, settings(fake.baseUrl(), 1, 4));
          return streamAll(client, "h2", 4).eventually(client::close);
        })
        .onComplete(ctx.succeeding(texts -> ctx.verify(() -> {
          assertThat(texts).containsOnly(String.join("", FakeAnthropicServer.words(10)));
          assertThat(fake.requestsFor("h2")).hasSize(4).allMatch(r -> r.version() == HttpVersion.HTTP_2);
          assertThat(fake.maxInFlight()).isEqualTo(4);
          fake.close().onComplete(ctx.succeedingThenComplete());
        })));
  }

  @Test
  @DisplayName("https offering only http/1.1: the client falls back to HTTP/1.1 and the reply streams as usual")
  void http1FallbackOverTls(Vertx vertx, VertxTestContext ctx) {
    FakeAnthropicServer fake = new FakeAnthropicServer(vertx);
    fake.start(tls(List.of(HttpVersion.HTTP_1_1)))
        .compose(f -> {
          fake.script("h1", FakeAnthropicServer.stream(List.of("over ", "one ", "one"), 5));
          ClaudeClient client = client(vertx, settings(fake.baseUrl(), 0, 2));
          return streamAll(client, "h1", 2).eventually(client::close);
        })
        .onComplete(ctx.succeeding(texts -> ctx.verify(() -> {
          assertThat(texts).containsOnly("over one one");
          assertThat(fake.requestsFor("h1")).hasSize(2).allMatch(r -> r.version() == HttpVersion.HTTP_1_1);
          fake.close().onComplete(ctx.succeedingThenComplete());
        })));
  }

  @Test
  @DisplayName("plain http: HTTP/1.1 with no h2c upgrade attempt")
  void plainHttpStaysHttp1(Vertx vertx, VertxTestContext ctx) {
    FakeAnthropicServer fake = new FakeAnthropicServer(vertx);
    fake.start()
        .compose(f -> {
          fake.script("plain", FakeAnthropicServer.stream(List.of("plain ", "text"), 5));
          ClaudeClient client = client(vertx, settings(fake.baseUrl(), 0, 1));
          return streamAll(client, "plain", 1).eventually(client::close);
        })
        .onComplete(ctx.succeeding(texts -> ctx.verify(() -> {
          assertThat(texts).containsExactly("plain text");
          Recorded r = fake.requestsFor("plain").get(0);
          assertThat(r.version()).isEqualTo(HttpVersion.HTTP_1_1);
          assertThat(r.headers().get("upgrade")).isNull();
          assertThat(r.headers().get("http2-settings")).isNull();
          fake.close().onComplete(ctx.succeedingThenComplete());
        })));
  }

  @Test
  @DisplayName("claude.max_connections 0 sizes the pool and its wait queue from the worker's job limit")
  void poolDefaultsFollowTheWorker() {
    ProviderSettings.Claude byDefault = settings("https://api.anthropic.com", 0, 750);
    assertThat(byDefault.maxConnections()).isEqualTo(750);
    assertThat(byDefault.maxWaitQueue()).isEqualTo(750);
    assertThat(ClaudeClient.poolOptions(byDefault).getHttp1MaxSize()).isEqualTo(750);
    assertThat(ClaudeClient.poolOptions(byDefault).getMaxWaitQueueSize()).isEqualTo(750);
    ProviderSettings.Claude explicit = settings("https://api.anthropic.com", 40, 750);
    assertThat(ClaudeClient.poolOptions(explicit).getHttp1MaxSize()).isEqualTo(40);
    assertThat(ClaudeClient.poolOptions(explicit).getHttp2MaxSize()).isEqualTo(40);
    assertThat(ClaudeClient.clientOptions(explicit).getProtocolVersion()).isEqualTo(HttpVersion.HTTP_2);
    assertThat(ClaudeClient.clientOptions(explicit).isHttp2ClearTextUpgrade()).isFalse();
    assertThat(ClaudeClient.clientOptions(settings("http://127.0.0.1:9", 0, 1)).getProtocolVersion())
        .isEqualTo(HttpVersion.HTTP_1_1);
  }
}
