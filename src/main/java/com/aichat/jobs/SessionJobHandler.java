package com.aichat.jobs;

import com.aichat.contract.ChatSession;
import com.aichat.contract.SessionJobState;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/**
 * The kind-specific part of a session job: one attempt of the work, run by the
 * {@link SessionJobRunner} after it claimed the job. The runner owns the lease, retries and the final
 * write ({@link com.aichat.persistence.Jobs#completeSessionJob}); a handler only computes.
 */
public interface SessionJobHandler {

  /**
   * Starts one attempt for the claimed {@code session}. Its result succeeds with the result to store
   * (the kind's JSON, e.g. {@code {title}}) or null when there is nothing to write (the job ends
   * {@code skipped}); it fails with a {@link com.aichat.ai.provider.ProviderException} saying whether
   * a retry may help (any other failure is retried too).
   */
  Attempt start(ChatSession session, SessionJobState job);

  /** One attempt in flight. */
  interface Attempt {

    Future<JsonObject> result();

    /** Stops the attempt (the lease was lost, or the worker stops); its result then fails. */
    void abort();

    /** An attempt that is already over. */
    static Attempt of(Future<JsonObject> result) {
      return new Attempt() {
        @Override
        public Future<JsonObject> result() {
          return result;
        }

        @Override
        public void abort() {}
      };
    }
  }
}
