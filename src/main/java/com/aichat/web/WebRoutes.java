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
 *   <li>{@code GET /docs}: the OpenAPI document rendered by Swagger UI; always on, like
 *       {@code /openapi.yaml}. Our own page ({@code /docs/index.html}, {@code /docs/init.js}) loads
 *       {@code /openapi.yaml} with the online validator off; of the {@code org.webjars:swagger-ui} package
 *       only {@code swagger-ui-bundle.js} and {@code swagger-ui.css} are served (under
 *       {@code /docs/swagger-ui/<version>/}), not its stock {@code index.html}, initializer or OAuth
 *       redirect page, which load the petstore example. Every {@code /docs} answer carries
 *       {@link #DOCS_CONTENT_SECURITY_POLICY} and {@code X-Content-Type-Options: nosniff}.
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

  /**
   * The Swagger UI page: scripts and styles only from this origin (Swagger UI sets style attributes,
   * hence {@code 'unsafe-inline'} for styles alone), connections only to this origin and the node's
   * {@code node.public_base_url} ("Try it out"), no plugins, no framing.
   */
  static final String DOCS_CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; "
      + "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'%s; "
      + "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

  /** {@code GET /openapi.yaml}: a document, never run or framed. */
  public static final String DOCUMENT_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'; sandbox";

  /** The files of the Swagger UI package that the docs page loads; nothing else of it is served. */
  static final String SWAGGER_ASSETS = "^/docs/swagger-ui/[0-9][0-9A-Za-z.+-]*/(swagger-ui-bundle\\.js|swagger-ui\\.css)$";

  /** Classpath folders of the pages (package-qualified, so no folder of the working directory shadows them). */
  static final String WEBROOT = "com/aichat/web/webroot";
  static final String DOCS = "com/aichat/web/docs";

  private WebRoutes() {}

  /**
   * Mounts the routes; {@code devTokenLimit} runs before {@code POST /dev/token} (the per-address
   * limit, {@code auth.dev_tokens_per_minute}).
   */
  public static void mount(Vertx vertx, Router router, WebClientSettings web, int gatewayPort, AuthSettings auth,
      String publicBaseUrl, Handler<RoutingContext> devTokenLimit) {
    mountDocs(router, publicBaseUrl);
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
      router.post("/dev/token").handler(devTokenLimit).handler(ctx -> devToken(vertx, ctx, auth));
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

  private static void mountDocs(Router router, String publicBaseUrl) {
    String csp = String.format(DOCS_CONTENT_SECURITY_POLICY, origin(publicBaseUrl));
    // first, for every /docs answer (the redirect and the 404s too)
    router.route("/docs*").handler(ctx -> {
      securityHeaders(ctx, csp);
      ctx.next();
    });
    // (a route "/docs" also matches "/docs/")
    router.get("/docs").handler(ctx -> {
      if (ctx.request().path().equals("/docs")) {
        ctx.redirect("/docs/");
      } else {
        ctx.next();
      }
    });
    // only the two files the page loads; the package's other files (its stock index.html, initializer,
    // OAuth redirect page, standalone preset) are 404
    java.util.regex.Pattern assets = java.util.regex.Pattern.compile(SWAGGER_ASSETS);
    router.route("/docs/swagger-ui/*")
        .handler(ctx -> {
          if (assets.matcher(ctx.normalizedPath()).matches()) {
            ctx.next();
          } else {
            ctx.fail(404);
          }
        })
        .handler(StaticHandler.create("META-INF/resources/webjars/swagger-ui"));
    router.route("/docs/*").handler(StaticHandler.create(DOCS).setIndexPage("index.html"));
  }

  /** The headers every /docs answer carries. */
  private static void securityHeaders(RoutingContext ctx, String csp) {
    ctx.response().putHeader("Content-Security-Policy", csp)
        .putHeader("X-Content-Type-Options", "nosniff")
        .putHeader("Referrer-Policy", "no-referrer");
  }

  /** " scheme://host[:port]" of {@code url}, or "" when it is the page's own origin anyway or unset. */
  private static String origin(String url) {
    if (url == null) {
      return "";
    }
    java.net.URI u = java.net.URI.create(url);
    return " " + u.getScheme() + "://" + u.getHost() + (u.getPort() < 0 ? "" : ":" + u.getPort());
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
