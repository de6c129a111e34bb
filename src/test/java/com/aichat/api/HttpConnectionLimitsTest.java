package com.aichat.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.testing.TestApp;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 10 finding 7, with raw TCP sockets against the real REST server: unfinished headers and idle
 * kept-alive connections are closed after their timeouts, and connections from one IP beyond
 * {@code http.max_connections_per_ip} are refused, counted over both API instances.
 */
@ExtendWith(VertxExtension.class)
class HttpConnectionLimitsTest {

  private static final String REQUEST = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

  @TempDir Path dataDir;

  private static JsonObject apiOnly(JsonObject http) {
    return new JsonObject()
        .put("verticles", new JsonObject().put("worker", 0).put("dispatcher", 0).put("gateway", 0).put("api", 2))
        .put("http", http);
  }

  private int start(Vertx vertx, JsonObject http) throws Exception {
    return TestApp.start(vertx, dataDir, apiOnly(http))
        .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS).httpPort();
  }

  /** Milliseconds until the server closes {@code s} (EOF or reset), or -1 if still open after {@code waitMs}. */
  private static long closedWithin(Socket s, long waitMs) throws IOException {
    long t0 = System.nanoTime();
    s.setSoTimeout((int) waitMs);
    InputStream in = s.getInputStream();
    try {
      while (in.read() != -1) {
        // drain whatever the server still sends
      }
    } catch (SocketTimeoutException e) {
      return -1;
    } catch (IOException reset) {
      // connection reset: closed as well
    }
    return (System.nanoTime() - t0) / 1_000_000;
  }

  /** Sends one request and reads its response (status line, headers, Content-Length body). */
  private static int roundTrip(Socket s) throws IOException {
    s.getOutputStream().write(REQUEST.getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
    s.setSoTimeout(10_000);
    InputStream in = s.getInputStream();
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b == -1) {
        throw new IOException("closed before a response: " + head);
      }
      head.write(b);
    }
    String headers = head.toString(StandardCharsets.US_ASCII);
    int length = 0;
    for (String line : headers.split("\r\n")) {
      if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
        length = Integer.parseInt(line.substring(15).trim());
      }
    }
    in.readNBytes(length);
    return Integer.parseInt(headers.substring(9, 12));
  }

  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  @DisplayName("A connection that never finishes its headers is closed after http.header_timeout_ms")
  void unfinishedHeadersAreClosed(Vertx vertx) throws Exception {
    int port = start(vertx, new JsonObject().put("header_timeout_ms", 800).put("idle_timeout_ms", 60_000));
    try (Socket slow = new Socket("127.0.0.1", port); Socket silent = new Socket("127.0.0.1", port)) {
      slow.getOutputStream().write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".getBytes(StandardCharsets.US_ASCII));
      slow.getOutputStream().flush();
      long slowClosed = closedWithin(slow, 15_000);
      long silentClosed = closedWithin(silent, 15_000);
      assertThat(slowClosed).as("partial headers closed after (ms)").isBetween(600L, 15_000L);
      assertThat(silentClosed).as("no bytes at all closed").isNotEqualTo(-1L);
    }
    // a prompt client is unaffected, and its kept-alive connection serves a second request
    try (Socket ok = new Socket("127.0.0.1", port)) {
      assertThat(roundTrip(ok)).isEqualTo(200);
      assertThat(roundTrip(ok)).isEqualTo(200);
    }
  }

  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  @DisplayName("A kept-alive connection with no request in progress is closed after http.idle_timeout_ms")
  void idleKeepAliveIsClosed(Vertx vertx) throws Exception {
    int port = start(vertx, new JsonObject().put("header_timeout_ms", 30_000).put("idle_timeout_ms", 800));
    try (Socket s = new Socket("127.0.0.1", port)) {
      assertThat(roundTrip(s)).isEqualTo(200);
      long closed = closedWithin(s, 15_000);
      assertThat(closed).as("idle connection closed after (ms)").isBetween(600L, 15_000L);
    }
  }

  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  @DisplayName("Connections from one IP beyond http.max_connections_per_ip are closed at once; a freed slot is reusable")
  void connectionsPerIpAreCapped(Vertx vertx) throws Exception {
    int cap = 4;
    int port = start(vertx, new JsonObject().put("max_connections_per_ip", cap).put("header_timeout_ms", 60_000));
    List<Socket> open = new ArrayList<>();
    try {
      for (int i = 0; i < cap; i++) {
        Socket s = new Socket("127.0.0.1", port);
        open.add(s);
        assertThat(roundTrip(s)).as("connection " + i).isEqualTo(200);
      }
      try (Socket extra = new Socket("127.0.0.1", port)) {
        long closed = closedWithin(extra, 10_000);
        assertThat(closed).as("connection over the cap closed").isNotEqualTo(-1L);
      }
      for (Socket s : open) {
        assertThat(roundTrip(s)).as("accepted connections keep working").isEqualTo(200);
      }
      open.remove(0).close();
      // the server notices the close asynchronously: retry briefly
      int status = -1;
      for (int attempt = 0; attempt < 50 && status != 200; attempt++) {
        try (Socket again = new Socket("127.0.0.1", port)) {
          status = roundTrip(again);
        } catch (IOException refused) {
          Thread.sleep(100);
        }
      }
      assertThat(status).as("a slot freed by a close can be used").isEqualTo(200);
    } finally {
      for (Socket s : open) {
        s.close();
      }
    }
  }
}
