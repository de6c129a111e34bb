package com.aichat.web;

import com.aichat.auth.AuthSettings;
import com.aichat.auth.DevTokenCommand;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.handler.StaticHandler;
import org.bson.types.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The browser-facing routes of the HTTP API, next to the REST routes of
 * {@link com.aichat.api.ApiRouter}:
 *
 * <ul>
 *   <li>{@code GET /docs}: the OpenAPI document rendered by Swagger UI (the {@code org.webjars:swagger-ui}
 *       package, served from the classpath under {@code /docs/swagger-ui/}); always on, like
 *       {@code /openapi.yaml}.
 *   <li>With {@code webclient.enabled}: the reference web client ({@code classpath:com/aichat/web/webroot}) at
 *       {@code /} and {@code /app/*}, the socket.io-client bundle at {@code /vendor/*} and the page's
 *       settings at {@code GET /app/config.json}.
 *   <li>With {@code webclient.enabled} and only while the generated dev secret is in use (the embedded
 *       default): {@code POST /dev/token}, the one-click sign-in, minting a token for a new user.
 * </ul>
 */
public final class WebRoutes {

  private static final Logger log = LoggerFactory.getLogger(WebRoutes.class);

  /** Lifetime of a one-click dev token (as the {@code dev-token} command's default). */
  static final int DEV_TOKEN_TTL_SECONDS = 24 * 3600;

  /**
   * The web client's pages: scripts only from this origin (none inline), no plugins, no framing;
   * connections also to the gateway, which listens on another port (so another origin).
   */
  static final String CONTENT_SECURITY_POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; "
      + "img-src 'self' data:; connect-src 'self' http: https: ws: wss:; object-src 'none'; base-uri 'none'; "
      + "form-action 'none'; frame-ancestors 'none'";

  /** Classpath folders of the pages (package-qualified, so no folder of the working directory shadows them). */
  static final String WEBROOT = "com/aichat/web/webroot";
  static final String DOCS = "com/aichat/web/docs";

  private WebRoutes() {}

  public static void mount(Vertx vertx, Router router, WebClientSettings web, int gatewayPort, AuthSettings auth) {
    mountDocs(router);
    if (!web.enabled()) {
      return;
    }
    JsonObject pageConfig = new JsonObject()
        .put("gatewayUrl", web.gatewayUrl())
        .put("gatewayPort", gatewayPort)
        .put("devSignIn", auth.usesDevSecret())
        .put("markdownMaxQuoteDepth", web.markdownMaxQuoteDepth());
    router.get("/app/config.json").handler(ctx -> ctx.response()
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json; charset=utf-8")
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
        .end(pageConfig.encode()));
    if (auth.usesDevSecret()) {
      router.post("/dev/token").handler(ctx -> devToken(vertx, ctx, auth));
    }
    StaticHandler pages = StaticHandler.create(WEBROOT).setIndexPage("index.html").setCachingEnabled(false);
    // browsers ask for it on every page of the origin (the JSON ones too): no icon, and no 404 in the console
    router.get("/favicon.ico").handler(ctx -> ctx.response().setStatusCode(204).end());
    // GET/HEAD on exactly the page's paths: a catch-all route would turn "405 wrong method" and
    // "404 no such route" elsewhere (POST /internal/..., PUT /chats/:id) into 405s.
    Handler<RoutingContext> page = ctx -> {
      ctx.response().putHeader("Content-Security-Policy", CONTENT_SECURITY_POLICY)
          .putHeader("X-Content-Type-Options", "nosniff")
          .putHeader("Referrer-Policy", "no-referrer");
      pages.handle(ctx);
    };
    // one regex route (no mount prefix, so the static handler resolves the full path)
    router.routeWithRegex("^/(index\\.html)?$|^/app/.*|^/vendor/.*")
        .method(HttpMethod.GET).method(HttpMethod.HEAD).handler(page);
  }

  private static void mountDocs(Router router) {
    // (a route "/docs" also matches "/docs/")
    router.get("/docs").handler(ctx -> {
      if (ctx.request().path().equals("/docs")) {
        ctx.redirect("/docs/");
      } else {
        ctx.next();
      }
    });
    router.route("/docs/swagger-ui/*").handler(StaticHandler.create("META-INF/resources/webjars/swagger-ui"));
    router.route("/docs/*").handler(StaticHandler.create(DOCS).setIndexPage("index.html"));
  }

  /** Mints a token for a freshly generated user id, signed with the dev secret. */
  private static void devToken(Vertx vertx, RoutingContext ctx, AuthSettings auth) {
    String userId = new ObjectId().toHexString();
    DevTokenCommand.mintFor(vertx, auth, userId, DEV_TOKEN_TTL_SECONDS)
        .onSuccess(token -> {
          log.info("dev sign-in: minted a token for new user {}", userId);
          ctx.response()
              .putHeader(HttpHeaders.CONTENT_TYPE, "application/json; charset=utf-8")
              .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
              .end(new JsonObject().put("userId", userId).put("token", token)
                  .put("expiresInSeconds", DEV_TOKEN_TTL_SECONDS).encode());
        })
        .onFailure(ctx::fail);
  }
}
