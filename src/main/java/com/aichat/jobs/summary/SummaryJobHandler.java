package com.aichat.jobs.summary;

import static com.aichat.contract.Json.iso;

import com.aichat.ai.context.ContextBuilder;
import com.aichat.ai.context.ContextBuilder.Keep;
import com.aichat.ai.context.SummaryRequest;
import com.aichat.ai.provider.ModelProvider;
import com.aichat.ai.provider.ProviderException;
import com.aichat.contract.ChatMessage;
import com.aichat.contract.ChatSession;
import com.aichat.contract.SessionJobState;
import com.aichat.contract.SessionSummary;
import com.aichat.jobs.ModelAttempt;
import com.aichat.jobs.SessionJobHandler;
import com.aichat.persistence.Jobs;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * The {@code summary} session job (docs/context.md): folds the next chunk of the session's uncovered
 * history into its rolling summary.
 *
 * <ol>
 *   <li>reads the uncovered history newest first (the window a reply reads, after the summary's last
 *       covered message) and finds where the new summary must end: the newest {@code keep_percent} of
 *       the window stays out of it ({@link ContextBuilder#planKeep}); nothing to cover ends the job
 *       {@code skipped};
 *   <li>reads the uncovered messages before that point, oldest first, at most
 *       {@code max_chunk_messages} of them ({@link ContextBuilder#chunk});
 *   <li>asks the model ({@link SummaryRequest}: the previous summary and the chunk as a transcript);
 *   <li>answers {@code {expectedVersion, text, coversThroughMessageId, coversThroughCreatedAt,
 *       messagesCovered, model, more}}. The store writes it as version {@code expectedVersion + 1} only
 *       while the lease is held and the stored version is still {@code expectedVersion}, in one write
 *       with the job's end, so the version advances exactly once per run whatever crashes; with
 *       {@code more} (a backlog beyond the chunk) the job is pending again in that same write.
 * </ol>
 */
public final class SummaryJobHandler implements SessionJobHandler {

  private final Jobs store;
  private final ModelProvider provider;
  private final ContextBuilder builder;

  public SummaryJobHandler(Jobs store, ModelProvider provider, ContextBuilder builder) {
    this.store = store;
    this.provider = provider;
    this.builder = builder;
  }

  @Override
  public Attempt start(ChatSession session, SessionJobState job) {
    SessionSummary previous = session.summary();
    ModelAttempt attempt = new ModelAttempt(provider);
    return attempt.result(store
        .loadHistoryRange(session.id(), coveredAt(previous), coveredId(previous), null, null, builder.readLimit(), true)
        .map(builder::planKeep)
        .compose(keep -> keep == Keep.ALL
            ? Future.succeededFuture(null)
            : store.loadHistoryRange(session.id(), coveredAt(previous), coveredId(previous), keep.createdAt(), keep.id(),
                    builder.compaction().maxChunkMessages() + 1, false)
                .compose(before -> fold(attempt, previous, before))));
  }

  private Future<JsonObject> fold(ModelAttempt attempt, SessionSummary previous, List<ChatMessage> before) {
    List<ChatMessage> chunk = builder.chunk(before);
    if (chunk.isEmpty()) {
      return Future.succeededFuture(null);
    }
    boolean more = before.size() > chunk.size();
    ChatMessage last = chunk.get(chunk.size() - 1);
    return attempt.ask(SummaryRequest.of(builder.compaction(), previous, chunk)).compose(answer -> {
      String summary = answer.text().strip();
      if (summary.isEmpty()) {
        return Future.failedFuture(new ProviderException(
            ProviderException.Kind.PERMANENT, "summary_empty", "The model gave no summary.", 0, -1));
      }
      return Future.succeededFuture(new JsonObject()
          .put("expectedVersion", previous == null ? 0L : previous.version())
          .put("text", summary)
          .put("coversThroughMessageId", last.id())
          .put("coversThroughCreatedAt", iso(last.createdAt()))
          .put("messagesCovered", (previous == null ? 0L : previous.messagesCovered()) + chunk.size())
          .put("model", answer.result().model())
          .put("more", more));
    });
  }

  private static java.time.Instant coveredAt(SessionSummary s) {
    return s == null ? null : s.coversThroughCreatedAt();
  }

  private static String coveredId(SessionSummary s) {
    return s == null ? null : s.coversThroughMessageId();
  }
}
