package com.aichat.ai.provider;

import io.vertx.core.Future;
import java.util.function.Consumer;

/**
 * A language model that streams a reply. Implementations: {@link ClaudeClient} (the Anthropic Messages
 * API over the Vert.x WebClient) and {@link OfflineModel} (deterministic, no network).
 *
 * <p>Calls are made on the caller's event loop and every callback runs there too.
 */
public interface ModelProvider {

  /**
   * Starts one attempt. {@code onText} receives the reply's text pieces in order as they arrive. The
   * call's {@link ModelCall#result()} succeeds with the final model, usage and stop reason, or fails
   * with a {@link ProviderException} saying whether a retry may help.
   */
  ModelCall stream(ModelRequest request, Consumer<String> onText);

  /**
   * Counts the input tokens {@code request} would take, with the provider's own tokenizer (Claude:
   * {@code POST /v1/messages/count_tokens}). Succeeds with null when the provider cannot count, which
   * makes the caller fall back to the estimate; fails when the count was attempted and failed.
   */
  default Future<Long> countTokens(ModelRequest request) {
    return Future.succeededFuture(null);
  }

  /** Releases the provider's clients. */
  default Future<Void> close() {
    return Future.succeededFuture();
  }

  /** One streaming attempt in flight. */
  interface ModelCall {

    Future<ModelResult> result();

    /**
     * Completes once the request is on the wire (a connection was acquired and the request is being
     * sent), with the milliseconds spent waiting for that connection: in the pool's queue and opening
     * it. Only from then on does the attempt count as running and do the provider timeouts run. Fails
     * with the attempt's error if the attempt ends before (e.g. aborted or timed out while waiting).
     * Providers without connections answer at once with 0.
     */
    default Future<Long> onWire() {
      return Future.succeededFuture(0L);
    }

    /**
     * Stops the attempt: no more text is delivered and {@link #result()} fails with
     * {@link ProviderException.Kind#ABORTED} (unless it already ended).
     */
    void abort();
  }
}
