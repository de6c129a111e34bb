package com.aichat.metrics;

import com.aichat.contract.Addresses;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.Match;
import io.vertx.micrometer.MatchType;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.util.EnumSet;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Vert.x's own meters (vertx-micrometer-metrics) and the {@code GET /metrics} endpoint.
 *
 * <p>Vert.x records the HTTP server ({@code vertx_http_server_*}), the HTTP client (the provider:
 * {@code vertx_http_client_*}), the event bus ({@code vertx_eventbus_*}) and the pools
 * ({@code vertx_pool_*}). Labels: HTTP method, status code and route (the route template, e.g.
 * {@code /chats/:sessionId/messages}, never the path with its ids), event-bus address and side, pool
 * type and name. The per-reply and per-worker bus addresses are folded to one value each
 * ({@code chat.ai.progress.*}, {@code chat.ai.generate.*}, {@code chat.ai.outcome.*}), so no label
 * carries an id.
 */
public final class MetricsSetup {

  private static final Logger log = LoggerFactory.getLogger(MetricsSetup.class);

  /** The Prometheus text exposition format, version 0.0.4. */
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  public static final String PATH = "/metrics";

  private MetricsSetup() {}

  public static MicrometerMetricsOptions vertxMetricsOptions() {
    MicrometerMetricsOptions options = new MicrometerMetricsOptions()
        .setEnabled(true)
        .setJvmMetricsEnabled(true)
        .setLabels(EnumSet.of(Label.HTTP_METHOD, Label.HTTP_CODE, Label.HTTP_ROUTE, Label.EB_ADDRESS,
            Label.EB_SIDE, Label.EB_FAILURE, Label.POOL_TYPE, Label.POOL_NAME))
        .addDisabledMetricsCategory(MetricsDomain.VERTICLES)
        .addDisabledMetricsCategory(MetricsDomain.DATAGRAM_SOCKET);
    for (String prefix : new String[] {Addresses.AI_PROGRESS_PREFIX, Addresses.AI_WORKER_PREFIX,
        Addresses.AI_OUTCOME_PREFIX}) {
      options.addLabelMatch(new Match()
          .setDomain(MetricsDomain.EVENT_BUS)
          .setLabel(Label.EB_ADDRESS.toString())
          .setType(MatchType.REGEX)
          .setValue(Pattern.quote(prefix) + ".+")
          .setAlias(prefix + "*"));
    }
    return options;
  }

  /** Answers {@code GET /metrics} with the node's meters in the Prometheus text format. */
  public static Handler<RoutingContext> handler(Vertx vertx) {
    Metrics metrics = Metrics.of(vertx);
    return ctx -> ctx.response().putHeader("Content-Type", CONTENT_TYPE).end(metrics.scrape());
  }

  /** A server of its own for {@code /metrics} ({@code metrics.port} set). */
  public static Future<HttpServer> listen(Vertx vertx, String host, int port) {
    Router router = Router.router(vertx);
    router.get(PATH).handler(handler(vertx));
    return vertx.createHttpServer()
        .requestHandler(router)
        .listen(port, host)
        .onSuccess(s -> log.info("metrics at http://{}:{}{}", host, s.actualPort(), PATH))
        .recover(err -> Future.failedFuture(new IllegalStateException(
            "cannot serve /metrics on " + host + ":" + port + ": " + err.getMessage(), err)));
  }
}
