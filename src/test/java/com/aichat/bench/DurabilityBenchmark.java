package com.aichat.bench;

import com.aichat.ai.GenerationHarness;
import com.aichat.persistence.ChatStore;
import com.aichat.testing.TestApp;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The durability figure of the stock embedded {@code h2} backend (docs/architecture.md §9: "after 1,000
 * acknowledged inserts and an immediate {@code Runtime.halt}, only 967 survived"), checked on ours: a child JVM runs the real service on an h2
 * data dir and sends {@value #SENDS} messages through the store ({@value #IN_FLIGHT} in flight), logging
 * each acknowledgement; when {@value #SENDS} are acknowledged it calls {@code Runtime.halt} at once. The
 * parent then reopens the same data dir and counts the user messages: every acknowledged one must be
 * there. Also reports the acknowledged sends/s (each send is two durable inserts).
 *
 * <p>Run: {@code mvn -B -q test-compile exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=com.aichat.bench.DurabilityBenchmark}
 */
public final class DurabilityBenchmark {

  private static final Logger log = LoggerFactory.getLogger(DurabilityBenchmark.class);
  static final int SENDS = 1000;
  static final int IN_FLIGHT = 8;
  private static final Pattern ACK = Pattern.compile("durability-ack (\\d+) at (\\d+)");
  private static final Pattern READY = Pattern.compile("durability-ready (\\d+)");

  public static void main(String[] args) {
    if (args.length == 3 && args[0].equals("child")) {
      child(Path.of(args[1]), args[2]);
      return;
    }
    Bench.run("DurabilityBenchmark[h2]", 90, DurabilityBenchmark::parent);
  }

  private static Future<Boolean> parent(Vertx vertx) {
    Path dir;
    try {
      dir = Files.createTempDirectory("chat-durability-");
    } catch (IOException e) {
      return Future.failedFuture(e);
    }
    Bench.removeOnExit(dir);
    String userId = GenerationHarness.newUserId();
    return vertx.<long[]>executeBlocking(() -> runChild(dir, userId))
        .compose(acked -> TestApp.start(vertx, dir, Bench.overrides("h2"))
            .compose(app -> ChatStore.client(vertx).countUserMessagesSince(userId, Instant.EPOCH))
            .map(survived -> {
              long ackedCount = acked[0];
              double seconds = acked[2] / 1000.0;
              boolean ok = ackedCount == SENDS && survived >= ackedCount && acked[1] == 0;
              log.info("h2: {} sends acknowledged ({} in flight) in {} s = {} sends/s (2 inserts each); "
                      + "halted at once ({}); after reopen {} user messages survived; lost acknowledged: {}",
                  ackedCount, IN_FLIGHT, String.format("%.2f", seconds),
                  String.format("%.0f", ackedCount / Math.max(0.001, seconds)), acked[1] == 0 ? "Runtime.halt" : "NOT halted",
                  survived, Math.max(0, ackedCount - survived));
              log.info("criteria: every acknowledged send survives Runtime.halt -> {}", Bench.verdict(ok));
              return ok;
            }));
  }

  /** Runs the child JVM; answers {acknowledged, exit code != halt code, ms from ready to last ack}. */
  private static long[] runChild(Path dir, String userId) throws IOException, InterruptedException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p = new ProcessBuilder(java, "-cp", classpath(), DurabilityBenchmark.class.getName(), "child",
        dir.toString(), userId)
        .directory(new File(System.getProperty("user.dir")))
        .redirectError(ProcessBuilder.Redirect.INHERIT)
        .start();
    long acked = 0;
    long readyAt = 0;
    long lastAckAt = 0;
    try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        Matcher m = ACK.matcher(line);
        Matcher r = READY.matcher(line);
        if (m.find()) {
          acked = Math.max(acked, Long.parseLong(m.group(1)));
          lastAckAt = Long.parseLong(m.group(2));
        } else if (r.find()) {
          readyAt = Long.parseLong(r.group(1));
        }
      }
    }
    int exit = p.waitFor();
    return new long[] {acked, exit == 77 ? 0 : 1, lastAckAt - readyAt};
  }

  /** The classpath exec:java runs us with (its own class loader), or the JVM's. */
  private static String classpath() {
    if (DurabilityBenchmark.class.getClassLoader() instanceof URLClassLoader u) {
      List<String> parts = new ArrayList<>();
      for (var url : u.getURLs()) {
        parts.add(new File(url.getPath()).getPath());
      }
      return String.join(File.pathSeparator, parts);
    }
    return System.getProperty("java.class.path");
  }

  /** In the child JVM: start the service on h2, send SENDS messages, halt as soon as all are acknowledged. */
  private static void child(Path dir, String userId) {
    Vertx vertx = Vertx.vertx();
    TestApp.start(vertx, dir, Bench.overrides("h2"))
        .compose(app -> ChatStore.client(vertx).createSession(userId, null, "durability"))
        .onSuccess(session -> {
          ChatStore store = ChatStore.client(vertx);
          log.info("durability-ready {}", System.currentTimeMillis());
          AtomicInteger next = new AtomicInteger();
          AtomicInteger acked = new AtomicInteger();
          Promise<Void> all = Promise.promise();
          for (int i = 0; i < IN_FLIGHT; i++) {
            sendNext(store, userId, session.id(), next, acked, all);
          }
          all.future().onSuccess(v -> Runtime.getRuntime().halt(77));
        })
        .onFailure(e -> {
          log.error("durability child failed", e);
          Runtime.getRuntime().halt(2);
        });
  }

  private static void sendNext(ChatStore store, String userId, String sessionId, AtomicInteger next,
      AtomicInteger acked, Promise<Void> all) {
    int i = next.getAndIncrement();
    if (i >= SENDS) {
      return;
    }
    store.sendMessage(userId, sessionId, "durable " + i, null).onComplete(ar -> {
      if (ar.failed()) {
        log.error("send {} failed: {}", i, ar.cause().toString());
        Runtime.getRuntime().halt(3);
      }
      int n = acked.incrementAndGet();
      log.info("durability-ack {} at {}", n, System.currentTimeMillis());
      if (n == SENDS) {
        all.tryComplete();
      } else {
        sendNext(store, userId, sessionId, next, acked, all);
      }
    });
  }
}
