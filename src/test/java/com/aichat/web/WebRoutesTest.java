package com.aichat.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.testing.TestApp;
import com.aichat.testing.TestJws;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The browser-facing routes over plain HTTP: the page, its config, the dev sign-in and /docs. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class WebRoutesTest {

  @TempDir
  Path dir;

  /** Only the API and persistence: enough for these routes, and quick to start. */
  private static JsonObject apiOnly() {
    return new JsonObject().put("verticles",
        new JsonObject().put("worker", 0).put("dispatcher", 0).put("gateway", 0).put("api", 1));
  }

  private static final JsonObject DEV_SECRET = new JsonObject().put("auth", new JsonObject().put("hs256_secret", ""));

  private final List<Vertx> others = new ArrayList<>();

  /**
   * Starts an app with {@code overrides} on a Vert.x instance of its own (two apps on one event bus
   * would share the persistence address) and runs {@code check}. The instance is closed after the
   * test, from the test's thread: closed from inside its own chain, the chain's last callback would be
   * dispatched to the event loop that the close just stopped, and the test would never complete.
   */
  private <T> Future<T> withApp(JsonObject overrides, Function<WebClient, Future<T>> check) {
    Vertx other = Vertx.vertx();
    others.add(other);
    return TestApp.start(other, dir, apiOnly().mergeIn(overrides, true))
        .compose(app -> check.apply(WebClient.create(other, new WebClientOptions()
            .setDefaultHost("127.0.0.1").setDefaultPort(app.httpPort()).setFollowRedirects(false))));
  }

  @AfterEach
  void closeApps() throws Exception {
    for (Vertx other : others) {
      other.close().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    }
  }

  private static Future<HttpResponse<Buffer>> call(WebClient c, HttpMethod method, String path) {
    return c.request(method, path).send();
  }

  private static JsonObject payload(String jwt) {
    return new JsonObject(new String(Base64.getUrlDecoder().decode(jwt.split("\\.")[1]), StandardCharsets.UTF_8));
  }

  @Test
  @DisplayName("On the embedded default's dev secret, POST /dev/token mints a working token for a new user each time")
  void devSignIn(VertxTestContext ctx) {
    withApp(DEV_SECRET, c -> Future.all(call(c, HttpMethod.POST, "/dev/token"), call(c, HttpMethod.POST, "/dev/token"))
            .compose(both -> {
              JsonObject first = ((HttpResponse<Buffer>) both.resultAt(0)).bodyAsJsonObject();
              JsonObject second = ((HttpResponse<Buffer>) both.resultAt(1)).bodyAsJsonObject();
              return Future.all(
                      c.get("/chats").bearerTokenAuthentication(first.getString("token")).send(),
                      call(c, HttpMethod.GET, "/app/config.json"))
                  .map(r -> new JsonObject().put("first", first).put("second", second)
                      .put("chats", ((HttpResponse<Buffer>) r.resultAt(0)).statusCode())
                      .put("config", ((HttpResponse<Buffer>) r.resultAt(1)).bodyAsJsonObject()));
            }))
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          JsonObject first = r.getJsonObject("first");
          assertThat(first.getString("userId")).matches("[0-9a-f]{24}");
          assertThat(first.getInteger("expiresInSeconds")).isEqualTo(24 * 3600);
          JsonObject claims = payload(first.getString("token"));
          assertThat(claims.getString("sub")).isEqualTo(first.getString("userId"));
          assertThat(claims.getLong("exp") - claims.getLong("iat")).isEqualTo(24 * 3600L);
          assertThat(r.getJsonObject("second").getString("userId")).isNotEqualTo(first.getString("userId"));
          assertThat(r.getInteger("chats")).as("the token is accepted by the API").isEqualTo(200);
          assertThat(r.getJsonObject("config").getBoolean("devSignIn")).isTrue();
          assertThat(r.getJsonObject("config").getInteger("markdownMaxQuoteDepth")).isEqualTo(32);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("With a configured HS256 secret, POST /dev/token is 404 and the page offers only the token field")
  void noDevSignInWithARealSecret(VertxTestContext ctx) {
    // TestApp configures auth.hs256_secret
    withApp(new JsonObject(), c -> Future.all(call(c, HttpMethod.POST, "/dev/token"), call(c, HttpMethod.GET, "/app/config.json"),
            call(c, HttpMethod.GET, "/")))
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          HttpResponse<Buffer> token = r.resultAt(0);
          assertThat(token.statusCode()).isEqualTo(404);
          assertThat(token.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("NOT_FOUND");
          assertThat(((HttpResponse<Buffer>) r.resultAt(1)).bodyAsJsonObject().getBoolean("devSignIn")).isFalse();
          assertThat(((HttpResponse<Buffer>) r.resultAt(2)).statusCode()).isEqualTo(200);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("With auth.jwks_url, POST /dev/token is 404")
  void noDevSignInWithJwks(Vertx vertx, VertxTestContext ctx) {
    JsonObject jwks = new JsonObject().put("keys", new JsonArray().add(TestJws.rsaJwk(TestJws.rsaKeyPair(), "k1")));
    vertx.createHttpServer()
        .requestHandler(req -> req.response().putHeader("Content-Type", "application/json").end(jwks.encode()))
        .listen(0, "127.0.0.1")
        .compose(server -> withApp(new JsonObject().put("auth", new JsonObject().put("hs256_secret", "")
                .put("jwks_url", "http://127.0.0.1:" + server.actualPort() + "/jwks.json")
                .put("audience", "chat-api")),
            c -> call(c, HttpMethod.POST, "/dev/token")))
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          assertThat(r.statusCode()).isEqualTo(404);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("webclient.enabled=false: the page, its modules, the bundle, its config and the dev sign-in are 404; /docs stays")
  void disabled(VertxTestContext ctx) {
    JsonObject off = DEV_SECRET.copy().put("webclient", new JsonObject().put("enabled", false));
    List<String> gets = List.of("/", "/index.html", "/app/main.js", "/vendor/socket.io.esm.min.js", "/app/config.json");
    withApp(off, c -> Future.all(List.of(
            call(c, HttpMethod.GET, gets.get(0)), call(c, HttpMethod.GET, gets.get(1)), call(c, HttpMethod.GET, gets.get(2)),
            call(c, HttpMethod.GET, gets.get(3)), call(c, HttpMethod.GET, gets.get(4)), call(c, HttpMethod.POST, "/dev/token"),
            call(c, HttpMethod.GET, "/docs/"))))
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          for (int i = 0; i < 6; i++) {
            assertThat(((HttpResponse<Buffer>) r.resultAt(i)).statusCode()).as(i < 5 ? gets.get(i) : "POST /dev/token").isEqualTo(404);
          }
          assertThat(((HttpResponse<Buffer>) r.resultAt(6)).statusCode()).isEqualTo(200);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("GET / serves the page with a strict Content-Security-Policy, the ES modules, and the socket.io-client bundle from the npm package")
  void servesThePage(VertxTestContext ctx) {
    withApp(DEV_SECRET.copy().put("webclient", new JsonObject().put("gateway_url", "https://rt.example.com")), c -> Future.all(List.of(
            call(c, HttpMethod.GET, "/"), call(c, HttpMethod.GET, "/app/main.js"),
            call(c, HttpMethod.GET, "/vendor/socket.io.esm.min.js"), call(c, HttpMethod.GET, "/app/config.json"))))
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          HttpResponse<Buffer> page = r.resultAt(0);
          assertThat(page.statusCode()).isEqualTo(200);
          assertThat(page.getHeader("Content-Type")).startsWith("text/html");
          assertThat(page.getHeader("Content-Security-Policy")).contains("script-src 'self';").contains("object-src 'none'");
          assertThat(page.bodyAsString()).contains("<script type=\"module\" src=\"/app/main.js\"></script>");
          HttpResponse<Buffer> main = r.resultAt(1);
          assertThat(main.getHeader("Content-Type")).contains("javascript");
          assertThat(main.bodyAsString()).contains("import { ChatSocket } from './chat-socket.js';");
          HttpResponse<Buffer> bundle = r.resultAt(2);
          assertThat(bundle.statusCode()).isEqualTo(200);
          assertThat(bundle.bodyAsString()).contains("xt as io").contains("sourceMappingURL=socket.io.esm.min.js.map");
          JsonObject config = ((HttpResponse<Buffer>) r.resultAt(3)).bodyAsJsonObject();
          assertThat(config.getString("gatewayUrl")).isEqualTo("https://rt.example.com");
          assertThat(config.getInteger("gatewayPort")).isPositive();
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("/docs renders /openapi.yaml with Swagger UI from the webjar")
  void docs(VertxTestContext ctx) {
    withApp(new JsonObject(), c -> call(c, HttpMethod.GET, "/docs/")
            .compose(page -> {
              String html = page.bodyAsString();
              String bundle = html.replaceAll("(?s).*<script src=\"(swagger-ui/[^\"]+/swagger-ui-bundle\\.js)\".*", "$1");
              return Future.all(List.of(call(c, HttpMethod.GET, "/docs"), call(c, HttpMethod.GET, "/docs/" + bundle),
                      call(c, HttpMethod.GET, "/docs/init.js"), call(c, HttpMethod.GET, "/openapi.yaml")))
                  .map(r -> new Object[] {page, r});
            }))
        .onComplete(ctx.succeeding(pair -> ctx.verify(() -> {
          HttpResponse<Buffer> page = (HttpResponse<Buffer>) pair[0];
          var r = (io.vertx.core.CompositeFuture) pair[1];
          assertThat(page.statusCode()).isEqualTo(200);
          assertThat(page.bodyAsString()).contains("data-spec=\"/openapi.yaml\"").doesNotContain("${");
          HttpResponse<Buffer> redirect = r.resultAt(0);
          assertThat(redirect.statusCode()).isEqualTo(302);
          assertThat(redirect.getHeader("Location")).isEqualTo("/docs/");
          HttpResponse<Buffer> bundle = r.resultAt(1);
          assertThat(bundle.statusCode()).isEqualTo(200);
          assertThat(bundle.bodyAsString()).contains("SwaggerUIBundle");
          assertThat(((HttpResponse<Buffer>) r.resultAt(2)).bodyAsString()).contains("SwaggerUIBundle(");
          assertThat(((HttpResponse<Buffer>) r.resultAt(3)).bodyAsString()).startsWith("openapi: 3.");
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("auth.dev_tokens_per_minute=3: three sign-ins from one address are served, the fourth is 429 RATE_LIMITED")
  void devTokenIsRateLimitedPerAddress(Vertx vertx, VertxTestContext ctx) {
    JsonObject limited = DEV_SECRET.copy().put("auth", DEV_SECRET.getJsonObject("auth").copy().put("dev_tokens_per_minute", 3));
    // the limit counts per minute window: start well inside one, so the four requests share it
    TestApp.until(vertx, () -> System.currentTimeMillis() % 60_000 < 50_000)
        .compose(v -> withApp(limited, c -> call(c, HttpMethod.POST, "/dev/token")
            .compose(a -> call(c, HttpMethod.POST, "/dev/token"))
            .compose(b -> call(c, HttpMethod.POST, "/dev/token"))
            .compose(third -> call(c, HttpMethod.POST, "/dev/token").map(fourth -> List.of(third, fourth)))))
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          assertThat(r.get(0).statusCode()).as("the third").isEqualTo(200);
          HttpResponse<Buffer> fourth = r.get(1);
          assertThat(fourth.statusCode()).as("the fourth").isEqualTo(429);
          assertThat(fourth.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("RATE_LIMITED");
          assertThat(Integer.parseInt(fourth.getHeader("Retry-After"))).isBetween(1, 60);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("/docs and /openapi.yaml carry a CSP with frame-ancestors and nosniff; of Swagger UI only the bundle and its CSS are served")
  void docsSecurityHeaders(VertxTestContext ctx) {
    String v = "swagger-ui/" + System.getProperty("swagger.version", "5.35.0") + "/";
    List<String> paths = List.of("/docs/", "/docs/init.js", "/docs/" + v + "swagger-ui-bundle.js", "/docs/" + v + "swagger-ui.css",
        "/openapi.yaml", "/docs/" + v + "index.html", "/docs/" + v + "swagger-initializer.js", "/docs/" + v + "oauth2-redirect.html",
        "/docs/" + v + "swagger-ui-standalone-preset.js", "/docs/" + v + "swagger-ui.js", "/docs");
    withApp(new JsonObject(), c -> Future.all(paths.stream().map(p -> call(c, HttpMethod.GET, p)).toList()))
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          for (int i = 0; i < paths.size(); i++) {
            HttpResponse<Buffer> resp = r.resultAt(i);
            String path = paths.get(i);
            assertThat(resp.getHeader("X-Content-Type-Options")).as(path).isEqualTo("nosniff");
            assertThat(resp.getHeader("Content-Security-Policy")).as(path).contains("frame-ancestors 'none'")
                .doesNotContain("unsafe-eval");
            int expected = i < 5 ? 200 : i < 10 ? 404 : 302;
            assertThat(resp.statusCode()).as(path).isEqualTo(expected);
          }
          HttpResponse<Buffer> page = r.resultAt(0);
          assertThat(page.getHeader("Content-Security-Policy")).contains("script-src 'self'").contains("connect-src 'self'");
          assertThat(page.bodyAsString()).doesNotContain("petstore").doesNotContain("swagger-initializer");
          assertThat(((HttpResponse<Buffer>) r.resultAt(1)).bodyAsString()).contains("validatorUrl: null");
          assertThat(((HttpResponse<Buffer>) r.resultAt(4)).getHeader("Content-Security-Policy")).contains("sandbox");
          ctx.completeNow();
        })));
  }
}
