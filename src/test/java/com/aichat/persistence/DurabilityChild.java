package com.aichat.persistence;

import com.aichat.persistence.service.PersistenceVerticle;
import com.aichat.contract.Addresses;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The child JVM of {@link KillNineDurabilityTest}: deploys {@link PersistenceVerticle} on the embedded
 * H2 store in {@code args[0]}, then creates sessions for user {@code args[1]} through the event bus,
 * {@code args[2]} at a time, forever. Each acknowledged write is printed as {@code ACK <sessionId>}
 * on stdout, which here is the protocol channel to the parent test, not a log; {@code READY} is
 * printed once the store is up. The parent kills this process with SIGKILL.
 */
public final class DurabilityChild {

  private DurabilityChild() {}

  public static void main(String[] args) {
    Path dataDir = Path.of(args[0]);
    String userId = args[1];
    int inFlight = Integer.parseInt(args[2]);
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    Vertx vertx = Vertx.vertx();
    ChatStore store = ChatStore.client(vertx);
    AtomicInteger counter = new AtomicInteger();
    PersistenceTestSupport.deploy(vertx, PersistenceTestSupport.embedded("h2", 0), dataDir)
        .onSuccess(id -> {
          out.println("READY " + Addresses.CONVERSATIONS);
          for (int i = 0; i < inFlight; i++) {
            writeForever(store, userId, counter, out);
          }
        })
        .onFailure(err -> {
          out.println("FAILED " + err);
          System.exit(2);
        });
  }

  private static void writeForever(ChatStore store, String userId, AtomicInteger counter, PrintStream out) {
    Future<Void> next = store
        .createSession(userId, null, "durable " + counter.incrementAndGet())
        .map(s -> {
          out.println("ACK " + s.id());
          return null;
        });
    next.onComplete(ar -> writeForever(store, userId, counter, out));
  }
}
