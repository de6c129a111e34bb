package com.aichat.bench;

import com.aichat.ai.FakeAnthropicServer;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.InputStream;

/**
 * The fake Messages API in a JVM of its own, so a benchmark measuring the service's heap does not count
 * the fake's connections and buffers. Every request streams {@code chunks} chunks {@code delayMs} apart.
 * Prints {@code PORT <port>} once listening, then {@code STATS <inFlight> <maxInFlight> <requests>} every
 * 250 ms; exits when its standard input closes (the parent ended) or after {@code maxSeconds}.
 *
 * <p>Args: {@code chunks delayMs maxSeconds}.
 */
public final class FakeAnthropicMain {

  private FakeAnthropicMain() {}

  public static void main(String[] args) {
    int chunks = Integer.parseInt(args[0]);
    long delayMs = Long.parseLong(args[1]);
    long maxSeconds = Long.parseLong(args[2]);
    Vertx vertx = Vertx.vertx();
    FakeAnthropicServer fake = new FakeAnthropicServer(vertx);
    fake.defaultScenario(FakeAnthropicServer.stream(FakeAnthropicServer.words(chunks), delayMs));
    fake.start().onSuccess(f -> {
      System.out.println("PORT " + f.baseUrl().substring(f.baseUrl().lastIndexOf(':') + 1));
      System.out.flush();
      vertx.setPeriodic(250, t -> {
        System.out.println("STATS " + f.inFlight() + " " + f.maxInFlight() + " " + f.requests().size());
        System.out.flush();
      });
    }).onFailure(err -> {
      err.printStackTrace();
      System.exit(2);
    });
    vertx.setTimer(maxSeconds * 1000, t -> System.exit(0));
    Thread watcher = new Thread(() -> {
      InputStream in = System.in;
      try {
        while (in.read() >= 0) {
          // the parent never writes; read returns -1 when it closes the pipe or dies
        }
      } catch (IOException e) {
        // treated like end of input
      }
      System.exit(0);
    }, "stdin-watcher");
    watcher.setDaemon(true);
    watcher.start();
  }
}
