package com.aichat.metrics;

import com.aichat.contract.Addresses;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
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
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
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
 *
 * <p>Labels a client can choose are bounded, since every new value makes permanent series (about a
 * dozen per HTTP method). The HTTP method label is folded before any meter is looked up: a method other
 * than the nine of RFC 9110 ({@code GET}, {@code HEAD}, {@code POST}, {@code PUT}, {@code PATCH},
 * {@code DELETE}, {@code OPTIONS}, {@code TRACE}, {@code CONNECT}, in upper case) is recorded as
 * {@code OTHER} (the request tags provider replaces the label, so no meter and no registry cache entry
 * is ever keyed by the raw name). On top of that, {@link #boundedTags} is a Micrometer {@link MeterFilter}
 * over every {@code vertx_http_server_*} meter: it folds the method the same way, and keeps at most
 * {@code metrics.max_tag_values} distinct values each of {@code method}, {@code route} and {@code code}
 * (route templates and status codes are chosen by the server, so the cap is a backstop); later values
 * are recorded as {@code OTHER}. The Socket.IO gateway is not a Vert.x HTTP server, and its domain
 * meters carry no label, so socket event names and transports never reach a label.
 */
public final class MetricsSetup {

  private static final Logger log = LoggerFactory.getLogger(MetricsSetup.class);

  /** The Prometheus text exposition format, version 0.0.4. */
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  public static final String PATH = "/metrics";

  /** The value a bounded label takes for a value outside its allowed set. */
  public static final String OTHER = "OTHER";

  /** The HTTP methods of RFC 9110 that keep their own {@code method} label value. */
  public static final Set<String> STANDARD_METHODS =
      Set.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT");

  /** The labels of Vert.x's HTTP server meters a client can influence. */
  static final List<String> CLIENT_TAGS =
      List.of(Label.HTTP_METHOD.toString(), Label.HTTP_ROUTE.toString(), Label.HTTP_CODE.toString());

  private static final String HTTP_SERVER_PREFIX = "vertx.http.server";

  private MetricsSetup() {}

  /** {@code method} as a label value: itself if standard, else {@link #OTHER}. */
  public static String foldMethod(String method) {
    return method != null && STANDARD_METHODS.contains(method) ? method : OTHER;
  }

  /** A new registry for a node, its client-influenced labels bounded ({@link #boundedTags}). */
  public static PrometheusMeterRegistry registry(MetricsSettings settings) {
    PrometheusMeterRegistry registry = Metrics.newRegistry();
    registry.config().meterFilter(boundedTags(settings.maxTagValues()));
    return registry;
  }

  /**
   * A filter over the {@code vertx.http.server*} meters: the {@code method} label folded to the
   * standard methods and {@link #OTHER}; and at most {@code maxValues} distinct values of each of
   * {@code method}, {@code route} and {@code code}, the first seen kept, any later one recorded as
   * {@link #OTHER} (which never counts against the cap).
   */
  public static MeterFilter boundedTags(int maxValues) {
    Map<String, Set<String>> seen = new ConcurrentHashMap<>();
    CLIENT_TAGS.forEach(k -> seen.put(k, ConcurrentHashMap.newKeySet()));
    return new MeterFilter() {
      @Override
      public Meter.Id map(Meter.Id id) {
        if (!id.getName().startsWith(HTTP_SERVER_PREFIX)) {
          return id;
        }
        List<Tag> tags = new ArrayList<>();
        boolean changed = false;
        for (Tag t : id.getTagsAsIterable()) {
          Set<String> values = seen.get(t.getKey());
          String v = t.getValue();
          if (values != null) {
            if (t.getKey().equals(Label.HTTP_METHOD.toString())) {
              v = foldMethod(v);
            }
            if (!v.equals(OTHER) && !admit(values, v, maxValues)) {
              v = OTHER;
            }
          }
          changed |= !v.equals(t.getValue());
          tags.add(Tag.of(t.getKey(), v));
        }
        return changed ? id.replaceTags(tags) : id;
      }
    };
  }

  private static boolean admit(Set<String> values, String value, int max) {
    if (values.contains(value)) {
      return true;
    }
    synchronized (values) {
      if (values.size() >= max) {
        return values.contains(value);
      }
      values.add(value);
      return true;
    }
  }

  public static MicrometerMetricsOptions vertxMetricsOptions() {
    MicrometerMetricsOptions options = new MicrometerMetricsOptions()
        .setEnabled(true)
        // replaces the raw method label before any meter (or registry cache entry) is keyed by it
        .setServerRequestTagsProvider(req -> Tags.of(Label.HTTP_METHOD.toString(), foldMethod(req.method().name())))
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

  /**
   * Answers {@code GET /metrics} with the node's meters in the Prometheus text format; with
   * {@code metrics.token}, only to {@code Authorization: Bearer <token>} (else 401
   * {@code UNAUTHENTICATED}, the API's JSON error shape).
   */
  public static Handler<RoutingContext> handler(Vertx vertx, MetricsSettings settings) {
    Metrics metrics = Metrics.of(vertx);
    byte[] expected = settings.token() == null ? null
        : ("Bearer " + settings.token()).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    return ctx -> {
      if (expected != null) {
        String given = ctx.request().getHeader("Authorization");
        if (given == null || !java.security.MessageDigest.isEqual(expected,
            given.getBytes(java.nio.charset.StandardCharsets.UTF_8))) {
          ctx.response().setStatusCode(401)
              .putHeader("Content-Type", "application/json; charset=utf-8")
              .putHeader("WWW-Authenticate", "Bearer")
              .end(new io.vertx.core.json.JsonObject().put("error", new io.vertx.core.json.JsonObject()
                  .put("code", "UNAUTHENTICATED").put("message", "/metrics needs the metrics.token bearer token"))
                  .encode());
          return;
        }
      }
      ctx.response().putHeader("Content-Type", CONTENT_TYPE).end(metrics.scrape());
    };
  }

  /** A server of its own for {@code /metrics} ({@code metrics.port} set). */
  public static Future<HttpServer> listen(Vertx vertx, String host, MetricsSettings settings) {
    int port = settings.port();
    Router router = Router.router(vertx);
    router.get(PATH).handler(handler(vertx, settings));
    return vertx.createHttpServer()
        .requestHandler(router)
        .listen(port, host)
        .onSuccess(s -> log.info("metrics at http://{}:{}{}", host, s.actualPort(), PATH))
        .recover(err -> Future.failedFuture(new IllegalStateException(
            "cannot serve /metrics on " + host + ":" + port + ": " + err.getMessage(), err)));
  }
}
