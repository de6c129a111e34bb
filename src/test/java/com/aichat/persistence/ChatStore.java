package com.aichat.persistence;

import com.aichat.persistence.binding.BusProxy;
import io.vertx.core.Vertx;

/**
 * Test support only: the whole store in one client, for tests that write a reply's whole life
 * (send, claim, complete, sweep) without a worker. Each method still goes to the address of the
 * interface declaring it ({@link BusProxy}); the service's callers each hold only their own interface
 * (docs/architecture.md §2).
 */
public interface ChatStore extends Conversations, Generations, Jobs, Recovery {

  static ChatStore client(Vertx vertx) {
    return BusProxy.create(vertx, ChatStore.class);
  }

  static ChatStore client(Vertx vertx, long timeoutMs) {
    return BusProxy.create(vertx, ChatStore.class, timeoutMs);
  }
}
