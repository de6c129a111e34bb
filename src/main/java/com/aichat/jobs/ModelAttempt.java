package com.aichat.jobs;

import com.aichat.ai.provider.ModelProvider;
import com.aichat.ai.provider.ModelProvider.ModelCall;
import com.aichat.ai.provider.ModelRequest;
import com.aichat.ai.provider.ModelResult;
import com.aichat.ai.provider.ProviderException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/**
 * An attempt of a session job that asks the model once: abortable before the request starts and while
 * it streams. A handler creates it, sets its {@link #result} from {@link #ask} composed with its own
 * reads and checks, and returns it to the {@link SessionJobRunner}.
 *
 * <p>Not thread-safe: used on the worker verticle's event loop.
 */
public final class ModelAttempt implements SessionJobHandler.Attempt {

  /** The whole streamed text and the provider's result (model, usage, stop reason). */
  public record Answer(String text, ModelResult result) {}

  private final ModelProvider provider;
  private Future<JsonObject> result;
  private ModelCall call;
  private boolean aborted;

  public ModelAttempt(ModelProvider provider) {
    this.provider = provider;
  }

  /** Streams {@code request}; fails with {@link ProviderException#aborted()} once aborted. */
  public Future<Answer> ask(ModelRequest request) {
    if (aborted) {
      return Future.failedFuture(ProviderException.aborted());
    }
    StringBuilder text = new StringBuilder();
    call = provider.stream(request, text::append);
    return call.result().map(r -> new Answer(text.toString(), r));
  }

  /** Sets what this attempt answers the runner; returns this. */
  public ModelAttempt result(Future<JsonObject> result) {
    this.result = result;
    return this;
  }

  @Override
  public Future<JsonObject> result() {
    return result;
  }

  @Override
  public void abort() {
    aborted = true;
    if (call != null) {
      call.abort();
    }
  }
}
