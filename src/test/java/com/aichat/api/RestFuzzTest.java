package com.aichat.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.Main;
import com.aichat.AppConfig;
import com.aichat.metrics.MetricsSetup;
import com.aichat.persistence.impl.MongoChatStore;
import com.aichat.testing.TestApp;
import com.aichat.testing.TestTokens;
import io.vertx.core.Vertx;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A fuzzer over every REST endpoint: generated malformed path ids, query parameters, headers and bodies
 * (wrong types, unknown fields, operator objects in every field, huge and deeply nested JSON, invalid
 * UTF-8, odd ids and cursors, missing and duplicated headers), and raw protocol-level garbage. Every
 * answer must be a 2xx for the inputs that are valid, otherwise a 4xx whose JSON body carries an
 * {@code error.code} listed in {@code openapi.yaml}; never a 5xx and never a stack trace. Afterwards the
 * store holds only well-formed documents of the fuzzing users, and exactly the sessions the accepted
 * inputs created. Seeded: a failure names the input and reproduces.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class RestFuzzTest {

  private static final long SEED = Long.getLong("fuzz.seed", 20261202L);
  private static final int RANDOM_ROUNDS = Integer.getInteger("fuzz.rounds", 1500);
  private static final Pattern STACK_TRACE = Pattern.compile(
      "(\\bat [a-z][\\w$]*(\\.[\\w$]+)+\\(|Exception\\b|\\bcom\\.aichat\\.|\\bio\\.vertx\\.|\\bjava\\.lang\\.)");

  @TempDir static Path dataDir;
  private static AppConfig cfg;
  /** The node, on a Vert.x with the service's meters (as Main builds it), so /metrics shows Vert.x's HTTP meters. */
  private static Vertx node;
  private static int mongoPort;
  private static HttpClient http;
  private static String token;
  private static String otherToken;
  private static String userId;
  private static String otherUserId;
  private static Set<String> documentedCodes;

  private final Map<String, Integer> outcomes = new TreeMap<>();
  private final List<String> violations = new ArrayList<>();
  private final List<String> closedWithoutAnswer = new ArrayList<>();
  private int tried;
  private int sessionsCreated;
  private int sessionsDeleted;

  @BeforeAll
  static void start(Vertx vertx, VertxTestContext ctx) throws IOException {
    documentedCodes = documentedErrorCodes();
    mongoPort = TestApp.freePort();
    JsonObject overrides = ApiClient.apiOnly()
        .put("mongo", new JsonObject().put("embedded_port", mongoPort))
        .put("rate_limit", new JsonObject().put("requests_per_minute", 1_000_000));
    userId = TestTokens.newUserId();
    otherUserId = TestTokens.newUserId();
    token = TestTokens.token(vertx, userId);
    otherToken = TestTokens.token(vertx, otherUserId);
    http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    cfg = AppConfig.from(TestApp.config(dataDir, overrides));
    Main.newVertx(cfg).compose(v -> {
      node = v;
      return Main.start(v, cfg);
    }).onComplete(ctx.succeedingThenComplete());
  }

  @AfterAll
  static void stop(VertxTestContext ctx) {
    http = null;
    (node == null ? io.vertx.core.Future.<Void>succeededFuture() : node.close()).onComplete(ctx.succeedingThenComplete());
  }

  /** The error codes the OpenAPI document lists for {@code error.code}. */
  static Set<String> documentedErrorCodes() throws IOException {
    String yaml = Files.readString(Path.of("src/main/resources/openapi.yaml"));
    Matcher m = Pattern.compile("code:\\s*\\n\\s*type: string\\s*\\n\\s*enum: \\[([^\\]]+)]").matcher(yaml);
    assertThat(m.find()).as("openapi.yaml lists the error codes as an enum of error.code").isTrue();
    Set<String> codes = new HashSet<>();
    for (String c : m.group(1).split(",")) {
      codes.add(c.trim());
    }
    return codes;
  }

  @Test
  @DisplayName("Malformed input on every endpoint gets a documented 4xx, never a 5xx or a stack trace, and stores nothing stray")
  void malformedInputGetsDocumentedClientErrors(Vertx vertx) throws Exception {
    Random rnd = new Random(SEED);
    String own = createSession("fuzz home");
    String victim = createSession("to delete");
    String others = createSessionAs(otherToken, "other user's");
    JsonObject pair = send(own, "hello", "fuzz-1");
    String ownMessage = pair.getJsonObject("userMessage").getString("id");
    String ownReply = pair.getJsonObject("reply").getString("id");
    List<String> ids = ids(own, others, rnd);
    List<String> msgIds = ids(ownMessage, ownReply, rnd);

    // 1. Every endpoint × every odd path id.
    for (String sid : ids) {
      request("GET", "/chats/" + sid, token, null, null);
      request("PATCH", "/chats/" + sid, token, "application/json", "{\"title\":\"t\"}");
      request("POST", "/chats/" + sid + "/messages", token, "application/json", "{\"content\":\"x\"}");
      request("GET", "/chats/" + sid + "/messages", token, null, null);
      for (String mid : msgIds) {
        request("GET", "/chats/" + sid + "/messages/" + mid, token, null, null);
        request("POST", "/chats/" + sid + "/messages/" + mid + "/cancel", token, null, null);
      }
      if (!sid.equalsIgnoreCase(own)) {
        request("DELETE", "/chats/" + sid, token, null, null);
      }
    }

    // 2. Query parameters of both list endpoints.
    for (String q : queries(rnd)) {
      request("GET", "/chats?" + q, token, null, null);
      request("GET", "/chats/" + own + "/messages?" + q, token, null, null);
    }

    // 2b. Query parameters of the history endpoints (issue 12), with the generic ones too.
    List<String> odd = List.of("", "%20", "%00", "abc", "2026-02-30", "2026-13-01", "20260101", "-1", "9".repeat(400),
        "%7B%22%24gt%22%3A%22%22%7D", "%FF", "a.*b", "(", "%5B", "%5C", "%24where", "x".repeat(600), "json", "markdown");
    List<String> history = new ArrayList<>(queries(rnd));
    for (String v : odd) {
      history.add("q=" + v);
      history.add("q=" + v + "&limit=" + v + "&cursor=" + v);
      history.add("from=" + v + "&to=2026-01-01");
      history.add("from=2026-01-01&to=" + v);
      history.add("format=" + v);
    }
    history.add("from=0001-01-01&to=9999-12-31");
    history.add("q=a&q=b");
    for (String q : history) {
      request("GET", "/chats/search?" + q, token, null, null);
      request("GET", "/usage?" + q, token, null, null);
      request("GET", "/chats/" + own + "/export?" + q, token, null, null);
    }

    // 3. Authorization and content-type headers.
    for (List<String[]> headers : headerSets(rnd)) {
      requestWithHeaders("GET", "/chats", headers, null);
      requestWithHeaders("POST", "/chats/" + own + "/messages", headers, "{\"content\":\"h\"}");
      requestWithHeaders("PATCH", "/chats/" + own, headers, "{\"title\":\"h\"}");
    }

    // 4. Bodies: every field of every JSON endpoint gets every odd value, then whole-body garbage.
    Map<String, List<String>> fields = Map.of(
        "POST /chats", List.of("title", "teamId", "$where", "unknown"),
        "PATCH /chats/:id", List.of("title", "$set", "unknown"),
        "POST /chats/:id/messages", List.of("content", "clientMessageId", "userId", "$inc"));
    for (Map.Entry<String, List<String>> e : fields.entrySet()) {
      for (String field : e.getValue()) {
        for (String value : jsonValues(rnd)) {
          String body = "{\"" + field + "\":" + value + (e.getKey().contains("messages") && !field.equals("content")
              ? ",\"content\":\"ok\"}" : "}");
          body(e.getKey(), own, body);
        }
      }
    }
    for (byte[] raw : rawBodies(rnd)) {
      for (String endpoint : fields.keySet()) {
        body(endpoint, own, raw);
      }
    }

    // 5. Random combinations: a random endpoint, id, query, header set and body.
    List<String> values = jsonValues(rnd);
    List<String> queries = queries(rnd);
    List<List<String[]>> headerSets = headerSets(rnd);
    // the standard methods, and made-up ones (answered 405 or 404 like any other unrouted request)
    String[] methods = {"GET", "POST", "PATCH", "DELETE", "PUT", "OPTIONS", "HEAD", "TRACE", "get", "Post",
        "BREW", "PROPFIND", "M-SEARCH", "X" + hex(rnd, 8), "QUERY"};
    String[] paths = {"/chats", "/chats/{s}", "/chats/{s}/messages", "/chats/{s}/messages/{m}",
        "/chats/{s}/messages/{m}/cancel", "/chats/{s}/messages/{m}/nope", "/health", "/openapi.yaml", "/nope",
        "/chats/search", "/usage", "/chats/{s}/export"};
    for (int i = 0; i < RANDOM_ROUNDS; i++) {
      String method = methods[rnd.nextInt(methods.length)];
      String sid = ids.get(rnd.nextInt(ids.size()));
      if (method.equals("DELETE") && sid.equalsIgnoreCase(own)) {
        sid = others;
      }
      String path = paths[rnd.nextInt(paths.length)]
          .replace("{s}", sid).replace("{m}", msgIds.get(rnd.nextInt(msgIds.size())));
      if (rnd.nextBoolean()) {
        path += "?" + queries.get(rnd.nextInt(queries.size()));
      }
      List<String[]> headers = new ArrayList<>(rnd.nextInt(3) == 0
          ? headerSets.get(rnd.nextInt(headerSets.size()))
          : List.<String[]>of(new String[] {"Authorization", "Bearer " + token}, new String[] {"Content-Type", "application/json"}));
      String body = null;
      if (!method.equals("GET") && !method.equals("HEAD") && rnd.nextBoolean()) {
        String f = new String[] {"title", "content", "clientMessageId", "teamId", "$gt", ""}[rnd.nextInt(6)];
        body = "{\"" + f + "\":" + values.get(rnd.nextInt(values.size())) + "}";
      }
      if (method.equals("POST") && path.startsWith("/chats?") || method.equals("POST") && path.equals("/chats")) {
        headers = List.<String[]>of(new String[] {"Authorization", "Bearer " + otherToken});
      }
      requestWithHeaders(method, path, headers, body);
    }

    // 6. Raw protocol-level garbage on a plain socket.
    for (String raw : rawRequests(own)) {
      rawRequest(raw.getBytes(StandardCharsets.ISO_8859_1));
    }
    rawRequest(concat("GET /chats/".getBytes(StandardCharsets.US_ASCII), new byte[] {(byte) 0xff, (byte) 0xfe},
        (" HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII)));

    // The victim session can still be deleted; the fuzzing left the service working.
    int deleted = request("DELETE", "/chats/" + victim, token, null, null);
    assertThat(deleted).isEqualTo(204);
    assertThat(request("GET", "/chats/" + own + "/messages/" + ownMessage, token, null, null)).isEqualTo(200);

    String report = "REST fuzz: " + tried + " inputs; outcomes " + outcomes
        + "\nclosed without an answer (no request could be read): " + closedWithoutAnswer;
    System.out.println(report);
    Files.writeString(Path.of("target/rest-fuzz-report.txt"), report + "\n");
    assertThat(violations).as(report).isEmpty();
    assertThat(tried).isGreaterThan(2000);

    assertStoreHoldsNothingStray(vertx);
  }

  /**
   * Issue 24, finding 3: every request with a new method name (answered 405 or 404) used to add about a
   * dozen permanent {@code vertx_http_server_*} series. Two rounds over the same paths, each request with
   * a fresh made-up method (and a made-up path segment where the path allows one): the second round adds
   * no series and no registry entry, and no label carries a method, path or token the client chose.
   */
  @Test
  @DisplayName("Made-up HTTP methods and paths leave /metrics bounded: no new series, no label the client chose")
  void metricSeriesStayBounded() throws Exception {
    Random rnd = new Random(SEED + 3);
    String hex = hex(rnd, 24);
    List<String> chosen = new ArrayList<>();
    Set<String> first = null;
    int firstIds = 0;
    scrape(); // the scrape's own GET /metrics series exist before the first count
    for (int round = 0; round < 2; round++) {
      for (int i = 0; i < 3; i++) {
        for (String path : List.of("/chats", "/chats/" + hex, "/chats/" + hex + "/messages", "/health", "/openapi.yaml",
            "/docs/", "/docs/swagger-ui/x/index.html", "/metrics", "/dev/token", "/chats/search", "/usage",
            "/nope/{t}", "/chats/" + hex + "/{t}", "/{t}")) {
          String method = "M" + hex(rnd, 10).toUpperCase();
          String segment = "seg" + hex(rnd, 10);
          chosen.add(method);
          chosen.add(segment);
          for (String bearer : new String[] {null, token}) {
            int status = send(method, path.replace("{t}", segment), bearer, null, null);
            assertThat(status).as(method + " " + path).isIn(400, 401, 404, 405);
          }
        }
      }
      String text = scrape();
      Set<String> series = new java.util.TreeSet<>();
      for (String line : text.split("\n")) {
        if (line.startsWith("vertx_http_server_")) {
          series.add(line.substring(0, line.lastIndexOf(' ')));
          Matcher labels = Pattern.compile("(\\w+)=\"([^\"]*)\"").matcher(line);
          while (labels.find()) {
            if (labels.group(1).equals("method")) {
              assertThat(MetricsSetup.STANDARD_METHODS.contains(labels.group(2)) || labels.group(2).equals("OTHER"))
                  .as("method label of %s", line).isTrue();
            }
          }
        }
      }
      for (String c : chosen) {
        assertThat(text).as("a label carries the client's %s", c).doesNotContain(c);
      }
      int ids = httpServerRegistryEntries();
      if (round == 0) {
        first = series;
        firstIds = ids;
        assertThat(series).as("the requests were metered").anyMatch(l -> l.contains("method=\"OTHER\""));
      } else {
        assertThat(series).as("series after the second round of new methods").isEqualTo(first);
        assertThat(ids).as("registry entries (incl. pre-filter ids) after the second round").isEqualTo(firstIds);
      }
    }
  }

  private String scrape() throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + cfg.http().port() + "/metrics"))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }

  /**
   * Entries of the node's registry for HTTP server meters, including Micrometer's cache keyed by the
   * id before the meter filters (which a filter alone cannot keep from growing).
   */
  private static int httpServerRegistryEntries() throws Exception {
    io.micrometer.core.instrument.MeterRegistry registry = com.aichat.metrics.Metrics.of(node).meters();
    java.lang.reflect.Field f = io.micrometer.core.instrument.MeterRegistry.class.getDeclaredField("preFilterIdToMeterMap");
    f.setAccessible(true);
    Map<?, ?> preFilter = (Map<?, ?>) f.get(registry);
    int n = 0;
    for (Object id : preFilter.keySet()) {
      if (((io.micrometer.core.instrument.Meter.Id) id).getName().startsWith("vertx.http.server")) {
        n++;
      }
    }
    return n + (int) registry.getMeters().stream().filter(m -> m.getId().getName().startsWith("vertx.http.server")).count();
  }

  // ---------------------------------------------------------------- inputs

  private static List<String> ids(String valid, String other, Random rnd) {
    List<String> ids = new ArrayList<>(List.of(
        valid, valid.toUpperCase(), other, hex(rnd, 24), hex(rnd, 23), hex(rnd, 25), "0".repeat(24),
        "null", "undefined", "%24ne", "%7B%22%24gt%22%3A%22%22%7D", "%00", "..%2F..", "%2e%2e", "%FF%FE",
        "%C3%A9", "a".repeat(5000), "'%20OR%201%3D1", "-1", "1e9", "%0d%0aX-Injected:%201", valid + "%00",
        valid + "%20", "%20" + valid, valid.substring(0, 23) + "g", "ObjectId(%22" + valid + "%22)"));
    return ids;
  }

  private static List<String> queries(Random rnd) {
    List<String> q = new ArrayList<>();
    for (String v : List.of("-1", "0", "101", "100000000000", "abc", "1.5", "1e2", "", "%20", "%00", "0x10",
        "%7B%22%24gt%22%3A0%7D", "9".repeat(400))) {
      q.add("limit=" + v);
    }
    q.add("limit=1&limit=2");
    q.add("limit[$gt]=1");
    for (String name : List.of("cursor", "after", "before", "teamId")) {
      for (String v : List.of("", "garbage", "%7B%22%24gt%22%3A%22%22%7D", "x".repeat(600), "%FF", "eyJ9",
          hex(rnd, 24), hex(rnd, 24).toUpperCase(), "AAAAAAAAAAAAAAAA", "%00%00", "null", "-1")) {
        q.add(name + "=" + v);
      }
      q.add(name + "=a&" + name + "=b");
    }
    q.add("after=" + hex(rnd, 24) + "&before=" + hex(rnd, 24));
    q.add("unknown=1&$where=1&__proto__=x");
    q.add("&&&==&=");
    q.add("%");
    q.add("limit=%");
    return q;
  }

  private List<List<String[]>> headerSets(Random rnd) {
    List<List<String[]>> sets = new ArrayList<>();
    String json = "application/json";
    sets.add(List.<String[]>of(new String[] {"Content-Type", json}));
    for (String auth : List.of("", "Bearer", "Bearer ", "Bearer  " + token, "bearer " + token, "Basic dXNlcjpwYXNz",
        "Bearer " + token + "x", "Bearer a.b.c", "Bearer ...", "Bearer " + "A".repeat(6000),
        "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "Bearer " + token + " " + token, "Token " + token,
        "Bearer " + token.replace('.', '!'))) {
      sets.add(List.<String[]>of(new String[] {"Authorization", auth}, new String[] {"Content-Type", json}));
    }
    sets.add(List.<String[]>of(new String[] {"Authorization", "Bearer " + token}, new String[] {"Authorization", "Bearer x"},
        new String[] {"Content-Type", json}));
    sets.add(List.<String[]>of(new String[] {"Authorization", "Bearer " + token}, new String[] {"Authorization", "Bearer " + token},
        new String[] {"Content-Type", json}));
    for (String ct : List.of("text/plain", "application/json; charset=latin1", "application/json, text/plain",
        "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "", "application/jsonx",
        "application/json; charset=utf-16", "*/*")) {
      sets.add(List.<String[]>of(new String[] {"Authorization", "Bearer " + token}, new String[] {"Content-Type", ct}));
    }
    sets.add(List.<String[]>of(new String[] {"Authorization", "Bearer " + token}, new String[] {"Content-Type", json},
        new String[] {"Content-Type", "text/plain"}));
    sets.add(List.<String[]>of(new String[] {"Authorization", "Bearer " + token}));
    sets.add(List.<String[]>of(new String[] {"Authorization", "Bearer " + token}, new String[] {"Content-Type", json},
        new String[] {"Content-Encoding", "gzip"}));
    sets.add(List.<String[]>of(new String[] {"Authorization", "Bearer " + token}, new String[] {"Content-Type", json},
        new String[] {"X-Forwarded-For", "1.2.3.4, " + "9".repeat(200)}, new String[] {"Origin", "null"}));
    sets.add(List.<String[]>of(new String[] {"Authorization", "Bearer " + token}, new String[] {"Content-Type", json},
        new String[] {"Accept", "text/html"}, new String[] {"Accept-Encoding", "br, gzip, x-unknown"}));
    return sets;
  }

  private static List<String> jsonValues(Random rnd) {
    List<String> v = new ArrayList<>(List.of(
        "0", "-1", "1.5", "1e308", "1e999", "-0", "true", "false", "null", "[]", "{}", "[\"a\"]", "\"\"",
        "\" \"", "\"\\u0000\"", "\"\\ud800\"", "\"\\udfff\\ud800\"", "\"$ne\"", "\"a.b\"", "\"$where\"",
        "{\"$gt\":\"\"}", "{\"$ne\":null}", "{\"$where\":\"sleep(1000)\"}", "{\"$regex\":\".*\"}",
        "[{\"$gt\":1}]", "{\"a\":{\"$in\":[1]}}", "\"" + "x".repeat(32_001) + "\"", "\"" + "é".repeat(201) + "\"",
        "\"" + "😀".repeat(100) + "\"", "\"<script>alert(1)</script>\"", "\"\\n\\r\\t\"", "\"" + hex(rnd, 24) + "\"",
        "\"" + hex(rnd, 24).toUpperCase() + "\"", "\"" + hex(rnd, 23) + "\"", "\"ObjectId('x')\"",
        "\"" + "y".repeat(101) + "\"", "\"" + "z".repeat(100) + "\"", "NaN", "Infinity", "-Infinity", "0x10",
        "01", "\"\\x41\"", "'single'", "undefined"));
    v.add("[".repeat(3000) + "]".repeat(3000));
    v.add("{\"a\":".repeat(3000) + "1" + "}".repeat(3000));
    StringBuilder wide = new StringBuilder("{");
    for (int i = 0; i < 5000; i++) {
      wide.append(i == 0 ? "" : ",").append("\"k").append(i).append("\":").append(i);
    }
    v.add(wide.append('}').toString());
    return v;
  }

  private static List<byte[]> rawBodies(Random rnd) {
    List<byte[]> b = new ArrayList<>();
    for (String s : List.of("", " ", "{", "}", "[]", "[{}]", "null", "123", "\"str\"", "{\"content\":", "{\"content\":\"a\"",
        "{\"content\":\"a\",\"content\":{\"$gt\":1}}", "{\"title\":\"a\",\"title\":{\"$gt\":1}}", "{'content':'a'}",
        "{\"content\":\"a\"} trailing", "{\"content\":\"a\"}{\"content\":\"b\"}", "/* c */{\"content\":\"a\"}",
        "{\"content\":\"a\",}", "{\"__proto__\":{\"admin\":true},\"content\":\"a\"}", "\u0000\u0000")) {
      b.add(s.getBytes(StandardCharsets.UTF_8));
    }
    b.add(concat(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, "{\"content\":\"bom\"}".getBytes(StandardCharsets.UTF_8)));
    b.add(concat("{\"content\":\"".getBytes(StandardCharsets.US_ASCII), new byte[] {(byte) 0xC3, (byte) 0x28},
        "\",\"title\":\"".getBytes(StandardCharsets.US_ASCII), new byte[] {(byte) 0xC0, (byte) 0xAF},
        "\"}".getBytes(StandardCharsets.US_ASCII)));
    b.add(concat("{\"content\":\"".getBytes(StandardCharsets.US_ASCII), new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
        "\"}".getBytes(StandardCharsets.US_ASCII)));
    b.add(concat("{\"content\":\"".getBytes(StandardCharsets.US_ASCII), new byte[] {(byte) 0xF8, (byte) 0x88, (byte) 0x80,
        (byte) 0x80, (byte) 0x80}, "\"}".getBytes(StandardCharsets.US_ASCII)));
    b.add("{\"content\":\"é\"}".getBytes(StandardCharsets.UTF_16));
    byte[] noise = new byte[2048];
    rnd.nextBytes(noise);
    b.add(noise);
    b.add(("{\"content\":\"" + "x".repeat(300_000) + "\"}").getBytes(StandardCharsets.UTF_8));
    return b;
  }

  private String[] rawRequests(String own) {
    String auth = "Authorization: Bearer " + token + "\r\n";
    return new String[] {
      "GET /chats HTTP/1.1\r\n" + auth + "\r\n",
      "GET /chats HTTP/1.1\r\nHost: x\r\nHost: y\r\n" + auth + "\r\n",
      "POST /chats HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Type: application/json\r\nContent-Length: 2\r\n"
          + "Content-Length: 40\r\n\r\n{}",
      "POST /chats HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Type: application/json\r\nContent-Length: -5\r\n\r\n{}",
      "POST /chats HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Type: application/json\r\nContent-Length: 99999999999999\r\n\r\n{}",
      "POST /chats HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
          + "Content-Length: 2\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
      "POST /chats/" + own + "/messages HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Type: application/json\r\n"
          + "Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFF\r\n{}\r\n0\r\n\r\n",
      "GET /chats HTTP/1.1\r\nHost: x\r\n" + auth + "X-Big: " + "a".repeat(20_000) + "\r\n\r\n",
      "GET /chats/" + "a".repeat(10_000) + " HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n",
      "GET /chats HTTP/1.1\r\nHost: x\r\n" + auth + "Bad Header Line\r\n\r\n",
      "GET /chats HTTP/1.1\r\nHost: x\r\n" + auth + " folded: continuation\r\n\r\n",
      "GET /chats HTTP/9.9\r\nHost: x\r\n" + auth + "\r\n",
      "BREW /chats HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n",
      "GET chats HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n",
      "GET /chats?limit=%ZZ HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n",
      "GET /chats/%ZZ HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n",
      "GET /chats\u0000 HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n",
      "\r\n\r\n\r\n",
      "GET / HTTP/1.1\r\n\r\n",
    };
  }

  // ---------------------------------------------------------------- requests

  private void body(String endpoint, String own, String body) throws Exception {
    body(endpoint, own, body.getBytes(StandardCharsets.UTF_8));
  }

  private void body(String endpoint, String own, byte[] body) throws Exception {
    switch (endpoint) {
      case "POST /chats" -> send("POST", "/chats", otherToken, "application/json", body);
      case "PATCH /chats/:id" -> send("PATCH", "/chats/" + own, token, "application/json", body);
      default -> send("POST", "/chats/" + own + "/messages", token, "application/json", body);
    }
  }

  private int request(String method, String path, String bearer, String contentType, String body) throws Exception {
    return send(method, path, bearer, contentType, body == null ? null : body.getBytes(StandardCharsets.UTF_8));
  }

  private int send(String method, String path, String bearer, String contentType, byte[] body) throws Exception {
    List<String[]> headers = new ArrayList<>();
    if (bearer != null) {
      headers.add(new String[] {"Authorization", "Bearer " + bearer});
    }
    if (contentType != null) {
      headers.add(new String[] {"Content-Type", contentType});
    }
    return requestWithHeaders(method, path, headers, body);
  }

  private int requestWithHeaders(String method, String path, List<String[]> headers, Object body) throws Exception {
    String label = method + " " + abbreviate(path) + " " + describe(headers) + " " + abbreviate(body);
    HttpRequest.Builder b;
    try {
      b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + cfg.http().port() + path)).timeout(Duration.ofSeconds(20));
    } catch (IllegalArgumentException e) {
      // Not a URI java.net.http will send (e.g. a bare '%'): sent raw instead.
      return rawRequest((method + " " + path + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
    }
    byte[] bytes = body == null ? null : body instanceof byte[] a ? a : body.toString().getBytes(StandardCharsets.UTF_8);
    b.method(method, bytes == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(bytes));
    for (String[] h : headers) {
      try {
        b.header(h[0], h[1]);
      } catch (IllegalArgumentException e) {
        // java.net.http refuses an empty or malformed header value; the request goes without it.
      }
    }
    HttpResponse<byte[]> r;
    try {
      r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException first) {
      // A pooled connection the server had just closed (after a refusal that ends the connection):
      // once more on a fresh one; no answer twice is a violation.
      try {
        r = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()
            .send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
      } catch (IOException e) {
        tried++;
        violations.add(label + " → no answer: " + e);
        outcomes.merge("no answer", 1, Integer::sum);
        return -1;
      }
    }
    if (method.equals("POST") && (path.equals("/chats") || path.startsWith("/chats?")) && r.statusCode() == 201) {
      sessionsCreated++;
    }
    if (method.equals("DELETE") && r.statusCode() == 204) {
      sessionsDeleted++;
    }
    check(label, r.statusCode(), r.headers().firstValue("Content-Type").orElse(""),
        decoded(r.body(), r.headers().firstValue("Content-Encoding").orElse("")), method.equals("HEAD"));
    return r.statusCode();
  }

  /** One request on a fresh plain socket; the answer (if any) must be a 4xx without a stack trace. */
  private int rawRequest(byte[] request) throws IOException {
    String label = "RAW " + abbreviate(new String(request, StandardCharsets.ISO_8859_1));
    try (Socket s = new Socket("127.0.0.1", cfg.http().port())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      try {
        out.write(request);
        out.flush();
        s.shutdownOutput();
      } catch (IOException e) {
        // The server may close while the request is still being written; its answer is read below.
      }
      byte[] answer = readAll(s.getInputStream());
      String text = new String(answer, StandardCharsets.ISO_8859_1);
      tried++;
      if (text.isEmpty()) {
        closedWithoutAnswer.add(label);
        outcomes.merge("closed", 1, Integer::sum);
        return 0;
      }
      if (text.startsWith("HTTP/9.9 501 ")) {
        // An unknown protocol version is refused by Vert.x's HTTP/1 codec before any handler runs
        // (docs/security.md lists it): the one 5xx the fuzzer accepts, for that one input only.
        outcomes.merge("501 (unsupported HTTP version)", 1, Integer::sum);
        return 501;
      }
      Matcher m = Pattern.compile("^HTTP/1\\.[01] (\\d{3})").matcher(text);
      if (!m.find()) {
        violations.add(label + " → not an HTTP answer: " + abbreviate(text));
        return -1;
      }
      int status = Integer.parseInt(m.group(1));
      int split = text.indexOf("\r\n\r\n");
      String headers = split < 0 ? text : text.substring(0, split);
      byte[] body = split < 0 ? new byte[0] : text.substring(split + 4).getBytes(StandardCharsets.ISO_8859_1);
      Matcher ct = Pattern.compile("(?im)^content-type:\\s*(.*)$").matcher(headers);
      tried--;
      check(label, status, ct.find() ? ct.group(1).trim() : "", body,
          new String(request, StandardCharsets.ISO_8859_1).startsWith("HEAD "));
      return status;
    }
  }

  /** The body as sent before compression (java.net.http does not decode Content-Encoding). */
  private static byte[] decoded(byte[] body, String encoding) throws IOException {
    if (body.length == 0) {
      return body;
    }
    if (encoding.equalsIgnoreCase("gzip")) {
      return new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(body)).readAllBytes();
    }
    if (encoding.equalsIgnoreCase("deflate")) {
      return new java.util.zip.InflaterInputStream(new java.io.ByteArrayInputStream(body)).readAllBytes();
    }
    return body;
  }

  private static byte[] readAll(InputStream in) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    byte[] chunk = new byte[8192];
    try {
      int n;
      while ((n = in.read(chunk)) > 0) {
        buf.write(chunk, 0, n);
        if (buf.size() > 1_000_000) {
          break;
        }
      }
    } catch (SocketTimeoutException | java.net.SocketException e) {
      // What arrived before the reset or the timeout is the answer.
    }
    return buf.toByteArray();
  }

  /** The rules every answer must keep. */
  private void check(String label, int status, String contentType, byte[] body, boolean head) {
    tried++;
    String text = new String(body, StandardCharsets.UTF_8);
    String outcome = String.valueOf(status);
    if (status >= 500) {
      violations.add(label + " → " + status + " " + abbreviate(text));
    } else if (status >= 400) {
      if (body.length == 0 && head) {
        outcome += " (HEAD)";
      } else {
        try {
          JsonObject json = new JsonObject(text);
          String code = json.getJsonObject("error").getString("code");
          outcome += " " + code;
          if (!documentedCodes.contains(code)) {
            violations.add(label + " → " + status + " with undocumented code " + code);
          }
          if (!contentType.startsWith("application/json")) {
            violations.add(label + " → " + status + " JSON error sent as '" + contentType + "'");
          }
        } catch (DecodeException | ClassCastException | NullPointerException e) {
          violations.add(label + " → " + status + " without a JSON error body: " + abbreviate(text));
        }
      }
    } else if (status < 200) {
      violations.add(label + " → " + status);
    }
    if (STACK_TRACE.matcher(text).find() && !label.contains("/openapi.yaml")) {
      violations.add(label + " → " + status + " body looks like a stack trace: " + abbreviate(text));
    }
    outcomes.merge(outcome, 1, Integer::sum);
  }

  // ---------------------------------------------------------------- store check

  /** Every stored document belongs to a fuzzing user, has only safe keys and well-typed fields. */
  private void assertStoreHoldsNothingStray(Vertx vertx) throws Exception {
    MongoClient mongo = MongoClient.create(vertx, new JsonObject()
        .put("connection_string", "mongodb://127.0.0.1:" + mongoPort).put("db_name", cfg.mongo().database()));
    try {
      List<JsonObject> sessions = await(mongo.find(MongoChatStore.SESSIONS, new JsonObject()));
      List<JsonObject> messages = await(mongo.find(MongoChatStore.MESSAGES, new JsonObject()));
      Set<String> users = Set.of(userId, otherUserId);
      Set<String> sessionIds = new LinkedHashSet<>();
      for (JsonObject s : sessions) {
        assertSafeKeys(s, "session");
        assertThat(users).as("session owner %s", s).contains(id(s.getValue("userId")));
        assertThat(s.getValue("title")).as("session title").isInstanceOf(String.class);
        assertThat(s.getString("title").codePointCount(0, s.getString("title").length())).isBetween(1, SessionHandlers.MAX_TITLE);
        assertCleanText(s.getString("title"));
        sessionIds.add(id(s.getValue("_id")));
      }
      for (JsonObject m : messages) {
        assertSafeKeys(m, "message");
        assertThat(id(m.getValue("userId"))).as("message owner").isEqualTo(userId);
        assertThat(sessionIds).as("message %s belongs to a live session", m.getValue("_id"))
            .contains(id(m.getValue("chatSessionId")));
        Object content = m.getValue("content");
        assertThat(content).as("message content").isInstanceOf(String.class);
        assertThat(((String) content).length()).isLessThanOrEqualTo(MessageHandlers.MAX_CONTENT * 2);
        assertCleanText((String) content);
      }
      // Exactly what the accepted inputs created: 2 set-up sessions of the user, 1 of the other user, the
      // other user's 201s from the fuzzed POST /chats, minus the 204s (only ever the other user's or the victim).
      assertThat(sessions).hasSize(3 + sessionsCreated - sessionsDeleted);
    } finally {
      mongo.close();
    }
  }

  /** Text as a user sent it: no replacement characters from bad UTF-8, no NULs or other controls. */
  private static void assertCleanText(String s) {
    assertThat(s).as("stored text").doesNotContain("\uFFFD").doesNotContain("\u0000");
    assertThat(JsonBody.textProblem(s)).as("stored text %s", s).isNull();
  }

  /** An id as stored: a string or an ObjectId in extended JSON. */
  private static String id(Object v) {
    return v instanceof JsonObject o ? o.getString("$oid") : (String) v;
  }

  private static void assertSafeKeys(Object value, String where) {
    if (value instanceof JsonObject o) {
      if (o.size() == 1 && Set.of("$oid", "$date", "$numberLong", "$numberDecimal").contains(o.fieldNames().iterator().next())) {
        return; // a BSON value in extended JSON (ObjectId, date, long), not a stored key
      }
      for (String k : o.fieldNames()) {
        assertThat(k).as("a key of a stored %s", where).doesNotStartWith("$").doesNotContain("\u0000");
        assertSafeKeys(o.getValue(k), where);
      }
    } else if (value instanceof JsonArray a) {
      a.forEach(v -> assertSafeKeys(v, where));
    }
  }

  // ---------------------------------------------------------------- helpers

  private String createSession(String title) throws Exception {
    return createSessionAs(token, title);
  }

  private String createSessionAs(String bearer, String title) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + cfg.http().port() + "/chats"))
        .header("Authorization", "Bearer " + bearer).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("title", title).encode())).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(201);
    return new JsonObject(r.body()).getString("id");
  }

  private JsonObject send(String sessionId, String content, String clientMessageId) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + cfg.http().port() + "/chats/" + sessionId + "/messages"))
        .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(
            new JsonObject().put("content", content).put("clientMessageId", clientMessageId).encode())).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(202);
    return new JsonObject(r.body());
  }

  private static <T> T await(io.vertx.core.Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static String hex(Random rnd, int n) {
    StringBuilder sb = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      sb.append(Character.forDigit(rnd.nextInt(16), 16));
    }
    return sb.toString();
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  private static String describe(List<String[]> headers) {
    StringBuilder sb = new StringBuilder("[");
    for (String[] h : headers) {
      sb.append(h[0]).append('=').append(abbreviate(h[1].replace(token, "<token>"))).append(' ');
    }
    return sb.append(']').toString();
  }

  private static String abbreviate(Object o) {
    if (o == null) {
      return "";
    }
    String s = o instanceof byte[] a ? new String(a, StandardCharsets.UTF_8) : o.toString();
    s = s.replace("\r", "\\r").replace("\n", "\\n");
    return s.length() > 120 ? s.substring(0, 120) + "…(" + s.length() + ")" : s;
  }

  @SuppressWarnings("unused")
  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
