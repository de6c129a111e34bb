package com.aichat.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.testing.TestApp;
import com.aichat.testing.TestTokens;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue 10 finding 1: a permessage-deflate frame is bounded by {@code gateway.max_frame_bytes} after
 * inflating, not only on the wire. Raw RFC 6455 frames ({@link RawWebSocket}); each test runs on the
 * JUnit thread and blocks on the socket.
 */
@ExtendWith(VertxExtension.class)
@DisplayName("Gateway websocket compression: the inflated size of a message is bounded")
class GatewayCompressionTest {

  private static final Logger log = LoggerFactory.getLogger(GatewayCompressionTest.class);
  private static final long BOMB_BYTES = 48L << 20;

  private static TestApp start(Vertx vertx, Path dir, JsonObject gateway) throws Exception {
    // a long auth timeout, so that only the frame limit can close the unauthenticated connection
    JsonObject o = new JsonObject().put("gateway", new JsonObject().put("auth_timeout_ms", 30_000).mergeIn(gateway));
    return TestApp.start(vertx, dir, o).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  private static List<MemoryPoolMXBean> heapPools() {
    return ManagementFactory.getMemoryPoolMXBeans().stream().filter(p -> p.getType() == MemoryType.HEAP).toList();
  }

  @Test
  @Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
  @DisplayName("A 48 KB compressed frame that inflates to 48 MiB, sent before authenticating, is answered with close 1009 at once; the heap grows by far less than the inflated size")
  void compressionBombIsClosed(Vertx vertx, @TempDir Path dir) throws Exception {
    TestApp app = start(vertx, dir, new JsonObject());
    try (RawWebSocket ws = RawWebSocket.open(app.gatewayPort(), true)) {
      assertThat(ws.handshakeResponse).startsWith("HTTP/1.1 101");
      assertThat(ws.deflateNegotiated()).as("permessage-deflate stays available").isTrue();
      ws.readUntilText("0{"); // engine.io open

      System.gc();
      List<MemoryPoolMXBean> pools = heapPools();
      long usedBefore = pools.stream().mapToLong(p -> p.getUsage().getUsed()).sum();
      pools.forEach(MemoryPoolMXBean::resetPeakUsage);
      long t0 = System.nanoTime();
      int wire = ws.sendCompressedBomb("42[\"join\",{\"sessionId\":\"", BOMB_BYTES);
      RawWebSocket.Frame close = ws.readUntilClose();
      long ms = (System.nanoTime() - t0) / 1_000_000;
      long peak = pools.stream().mapToLong(p -> p.getPeakUsage().getUsed()).sum();
      long growth = peak - usedBefore;
      log.info("compression bomb: {} bytes on the wire inflating to {} MiB; closed after {} ms with {}; heap peak growth {} MiB",
          wire, BOMB_BYTES >> 20, ms, close == null ? "no close frame" : close.closeStatus(), growth >> 20);

      assertThat(wire).isLessThan(64 * 1024);
      assertThat(close).as("a close frame").isNotNull();
      assertThat(close.closeStatus()).as("1009 message too big").isEqualTo(1009);
      assertThat(ms).as("closed well before the auth timeout").isLessThan(10_000);
      // summed pool peaks over-count (each pool's own peak), so the bound is loose; unbounded, the
      // inflated 48 MiB must all be on the heap at once
      assertThat(growth).as("heap growth").isLessThan(24L << 20);
      assertThat(ws.read()).as("the connection is closed").isNull();
    }
  }

  @Test
  @Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
  @DisplayName("A compressed message that inflates to just under gateway.max_frame_bytes is served (ack), and one just over it closes the socket with 1009")
  void limitEdge(Vertx vertx, @TempDir Path dir) throws Exception {
    int limit = 16 * 1024;
    TestApp app = start(vertx, dir, new JsonObject().put("max_frame_bytes", limit));
    String token = TestTokens.token(vertx, TestTokens.newUserId());
    try (RawWebSocket ws = RawWebSocket.open(app.gatewayPort(), true)) {
      ws.readUntilText("0{");
      ws.sendCompressedText("40{\"token\":\"" + token + "\"}");
      ws.readUntilText("40{\"sid\"");

      String head = "421[\"leave\",{\"sessionId\":\"not-an-id\",\"pad\":\"";
      String tail = "\"}]";
      String under = head + "a".repeat(limit - head.length() - tail.length()) + tail;
      assertThat(under).hasSize(limit);
      ws.sendCompressedText(under);
      String ack = ws.readUntilText("431").text();
      assertThat(ack).contains("VALIDATION_FAILED");

      String over = head + "a".repeat(limit + 1 - head.length() - tail.length()) + tail;
      ws.sendCompressedText(over);
      RawWebSocket.Frame close = ws.readUntilClose();
      assertThat(close).isNotNull();
      assertThat(close.closeStatus()).isEqualTo(1009);
    }
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("With gateway.websocket_compression false, permessage-deflate is not negotiated and websockets still work")
  void compressionOff(Vertx vertx, @TempDir Path dir) throws Exception {
    TestApp app = start(vertx, dir, new JsonObject().put("websocket_compression", false));
    String token = TestTokens.token(vertx, TestTokens.newUserId());
    try (RawWebSocket ws = RawWebSocket.open(app.gatewayPort(), true)) {
      assertThat(ws.handshakeResponse).startsWith("HTTP/1.1 101");
      assertThat(ws.deflateNegotiated()).isFalse();
      ws.readUntilText("0{");
      ws.sendText("40{\"token\":\"" + token + "\"}");
      assertThat(ws.readUntilText("40{").text()).contains("\"sid\"");
    }
  }
}
