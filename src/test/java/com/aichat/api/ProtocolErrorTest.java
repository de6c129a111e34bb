package com.aichat.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.testing.TestApp;
import com.aichat.testing.TestTokens;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Requests that are malformed below the JSON level (found by {@link RestFuzzTest}): each gets a JSON
 * error with a stable code instead of a bare status or a 500, and bodies that would be stored altered
 * (bad UTF-8, unpaired surrogates, control characters) are refused.
 */
@ExtendWith(VertxExtension.class)
class ProtocolErrorTest {

  @TempDir static Path dataDir;
  private static TestApp app;
  private static String token;
  private static String sessionId;

  @BeforeAll
  static void start(Vertx vertx, VertxTestContext ctx) {
    token = TestTokens.token(vertx, TestTokens.newUserId());
    TestApp.start(vertx, dataDir, ApiClient.apiOnly())
        .compose(a -> {
          app = a;
          return new ApiClient(vertx, a.httpPort()).createSession(token, "protocol");
        })
        .onComplete(ctx.succeeding(s -> {
          sessionId = s.getString("id");
          ctx.completeNow();
        }));
  }

  @Test
  @DisplayName("A form or multipart body is 415 on any method (it used to reach the body decoder and give 500)")
  void formBodiesAreUnsupportedMediaType() throws IOException {
    for (String type : new String[] {"application/x-www-form-urlencoded", "multipart/form-data; boundary=x"}) {
      Answer get = raw("GET /chats HTTP/1.1\r\nHost: x\r\n" + auth() + "Content-Type: " + type + "\r\n\r\n");
      assertThat(get.status).isEqualTo(415);
      assertThat(get.code()).isEqualTo("UNSUPPORTED_MEDIA_TYPE");
      Answer post = raw(post("/chats", type, "a=b"));
      assertThat(post.status).isEqualTo(415);
      assertThat(post.code()).isEqualTo("UNSUPPORTED_MEDIA_TYPE");
    }
  }

  @Test
  @DisplayName("HTTP/1.1 without Host, bad chunk framing and an illegal %-escape are 400 with a JSON code")
  void malformedHttpIsAJsonBadRequest() throws IOException {
    Answer noHost = raw("GET /chats HTTP/1.1\r\n" + auth() + "\r\n");
    assertThat(noHost.status).isEqualTo(400);
    assertThat(noHost.code()).isIn("MALFORMED_REQUEST", "VALIDATION_FAILED");
    Answer chunk = raw("POST /chats HTTP/1.1\r\nHost: x\r\n" + auth() + "Content-Type: application/json\r\n"
        + "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n");
    // Broken framing: the HTTP codec closes the connection; if an answer gets out first it is ours.
    if (chunk.status != 0) {
      assertThat(chunk.status).isEqualTo(400);
      assertThat(chunk.code()).isEqualTo("MALFORMED_REQUEST");
    }
    Answer escape = raw("GET /chats/%ZZ HTTP/1.1\r\nHost: x\r\n" + auth() + "\r\n");
    assertThat(escape.status).isEqualTo(400);
    assertThat(escape.code()).isEqualTo("VALIDATION_FAILED");
  }

  @Test
  @DisplayName("A request line or headers past the server's limits are 414 URI_TOO_LONG and 431 HEADERS_TOO_LARGE as JSON")
  void oversizedRequestLineAndHeadersAreJson() throws IOException {
    Answer uri = raw("GET /chats/" + "a".repeat(10_000) + " HTTP/1.1\r\nHost: x\r\n\r\n");
    assertThat(uri.status).isEqualTo(414);
    assertThat(uri.code()).isEqualTo("URI_TOO_LONG");
    Answer headers = raw("GET /chats HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(20_000) + "\r\n\r\n");
    assertThat(headers.status).isEqualTo(431);
    assertThat(headers.code()).isEqualTo("HEADERS_TOO_LARGE");
  }

  @Test
  @DisplayName("Invalid UTF-8, unpaired surrogates and control characters in text fields are 400, nothing stored")
  void textThatCannotBeStoredAsSentIsRefused() throws IOException {
    byte[] badUtf8 = concat("{\"content\":\"a".getBytes(StandardCharsets.US_ASCII), new byte[] {(byte) 0xC3, (byte) 0x28},
        "\"}".getBytes(StandardCharsets.US_ASCII));
    String path = "/chats/" + sessionId + "/messages";
    Answer utf8 = raw(concat(("POST " + path + " HTTP/1.1\r\nHost: x\r\n" + auth()
        + "Content-Type: application/json\r\nContent-Length: " + badUtf8.length + "\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII), badUtf8));
    assertThat(utf8.status).isEqualTo(400);
    assertThat(utf8.json().getJsonObject("error").getString("message")).contains("UTF-8");
    for (String body : new String[] {"{\"content\":\"a\\ud800b\"}", "{\"content\":\"a\\u0000b\"}"}) {
      Answer a = raw(post(path, "application/json", body));
      assertThat(a.status).as(body).isEqualTo(400);
      assertThat(a.code()).isEqualTo("VALIDATION_FAILED");
    }
    Answer title = raw(post("/chats", "application/json", "{\"title\":\"x\\u0007y\"}"));
    assertThat(title.status).isEqualTo(400);
    Answer ok = raw(post(path, "application/json", "{\"content\":\"tab\\tnew\\nline \\ud83d\\ude00\"}"));
    assertThat(ok.status).isEqualTo(202);
    Answer list = raw("GET " + path + " HTTP/1.1\r\nHost: x\r\n" + auth() + "\r\n");
    assertThat(list.json().getJsonArray("items")).hasSize(2);
  }

  // ---------------------------------------------------------------- helpers

  private static String auth() {
    return "Authorization: Bearer " + token + "\r\n";
  }

  private static String post(String path, String type, String body) {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    return "POST " + path + " HTTP/1.1\r\nHost: x\r\n" + auth() + "Content-Type: " + type + "\r\nContent-Length: "
        + b.length + "\r\nConnection: close\r\n\r\n" + body;
  }

  private record Answer(int status, String body) {
    JsonObject json() {
      return new JsonObject(body);
    }

    String code() {
      return json().getJsonObject("error").getString("code");
    }
  }

  private static Answer raw(String request) throws IOException {
    return raw(request.getBytes(StandardCharsets.UTF_8));
  }

  private static Answer raw(byte[] request) throws IOException {
    try (Socket s = new Socket("127.0.0.1", app.httpPort())) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(request);
      s.getOutputStream().flush();
      String text = readAnswer(s.getInputStream());
      if (text.isEmpty()) {
        return new Answer(0, "");
      }
      int status = Integer.parseInt(text.substring(9, 12));
      int split = text.indexOf("\r\n\r\n");
      String head = text.substring(0, split);
      String body = text.substring(split + 4);
      if (head.toLowerCase().contains("transfer-encoding: chunked")) {
        body = body.substring(body.indexOf("\r\n") + 2, body.lastIndexOf("\r\n0\r\n"));
      }
      return new Answer(status, body);
    }
  }

  /** Reads until the connection closes or one complete answer (by Content-Length) has arrived. */
  private static String readAnswer(InputStream in) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    byte[] chunk = new byte[8192];
    int n;
    while ((n = in.read(chunk)) > 0) {
      buf.write(chunk, 0, n);
      String text = buf.toString(StandardCharsets.UTF_8);
      int split = text.indexOf("\r\n\r\n");
      if (split > 0) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?im)^content-length:\\s*(\\d+)").matcher(text.substring(0, split));
        if (m.find() && buf.size() >= split + 4 + Integer.parseInt(m.group(1))) {
          break;
        }
        if (text.endsWith("\r\n0\r\n\r\n")) {
          break;
        }
      }
    }
    return buf.toString(StandardCharsets.UTF_8);
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }
}
