package com.aichat.jobs.title;

import com.aichat.ai.provider.ModelProvider;
import com.aichat.ai.provider.ModelRequest;
import com.aichat.ai.provider.ModelRequest.Turn;
import com.aichat.ai.provider.ProviderException;
import com.aichat.contract.ChatMessage;
import com.aichat.contract.ChatSession;
import com.aichat.contract.MessageStatus;
import com.aichat.contract.MessageType;
import com.aichat.contract.SessionJobState;
import com.aichat.jobs.ModelAttempt;
import com.aichat.jobs.SessionJobHandler;
import com.aichat.persistence.Conversations;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code title} session job: reads the session's first exchange (its first user message and the
 * first completed reply after it), asks the model for a title with a short request of its own
 * ({@code titles.model}, {@code titles.prompt} as the system prompt, {@code titles.max_tokens}), and
 * cleans the answer into one line of at most {@code titles.max_chars}. A session whose title is no
 * longer the default one is skipped without a request; an empty answer fails the job for good.
 */
public final class TitleJobHandler implements SessionJobHandler {

  /** The last user turn of every title request. */
  public static final String INSTRUCTION = "Write the title of this conversation.";

  /** Messages read from the start of the session to find its first exchange. */
  private static final int FIRST_MESSAGES = 6;

  private final Conversations store;
  private final ModelProvider provider;
  private final TitleSettings settings;

  public TitleJobHandler(Conversations store, ModelProvider provider, TitleSettings settings) {
    this.store = store;
    this.provider = provider;
    this.settings = settings;
  }

  @Override
  public Attempt start(ChatSession session, SessionJobState job) {
    if (!ChatSession.TITLE_DEFAULT.equals(session.titleSource())) {
      return Attempt.of(Future.succeededFuture(null));
    }
    ModelAttempt attempt = new ModelAttempt(provider);
    return attempt.result(store
        .listMessages(session.userId(), session.id(), null, null, FIRST_MESSAGES)
        .compose(page -> attempt.ask(request(page.items())))
        .map(ModelAttempt.Answer::text)
        .compose(this::cleaned));
  }

  /** The title request: the first question, its reply when there is one, then {@link #INSTRUCTION}. */
  ModelRequest request(List<ChatMessage> firstMessages) {
    ChatMessage question = firstMessages.stream()
        .filter(m -> m.messageType() == MessageType.USER).findFirst().orElse(null);
    ChatMessage reply = question == null ? null : firstMessages.stream()
        .filter(m -> m.messageType() == MessageType.AI_REPORT && m.status() == MessageStatus.COMPLETED)
        .filter(m -> question.id().equals(m.replyTo()))
        .findFirst().orElse(null);
    List<Turn> turns = new ArrayList<>();
    String q = question == null ? "" : clip(question.content());
    if (reply != null && !reply.content().isBlank()) {
      turns.add(new Turn(Turn.USER, q));
      turns.add(new Turn(Turn.ASSISTANT, clip(reply.content())));
      turns.add(new Turn(Turn.USER, INSTRUCTION));
    } else {
      turns.add(new Turn(Turn.USER, q + "\n\n" + INSTRUCTION));
    }
    return new ModelRequest(
        settings.prompt(), List.copyOf(turns), -1, settings.model(), settings.maxTokens(), ModelRequest.PURPOSE_TITLE);
  }

  private String clip(String text) {
    String t = text == null ? "" : text.strip();
    return t.length() > settings.inputChars() ? t.substring(0, settings.inputChars()) + "…" : t;
  }

  private Future<JsonObject> cleaned(String answer) {
    String title = clean(answer, settings.maxChars());
    return title.isEmpty()
        ? Future.failedFuture(new ProviderException(
            ProviderException.Kind.PERMANENT, "title_empty", "The model gave no title.", 0, -1))
        : Future.succeededFuture(new JsonObject().put("title", title));
  }

  /**
   * One line of at most {@code maxChars}: the answer's first non-blank line, without a
   * {@code Title:} label, surrounding quotes or final punctuation, whitespace collapsed, cut at a word
   * boundary when too long.
   */
  public static String clean(String answer, int maxChars) {
    String line = "";
    for (String l : (answer == null ? "" : answer).split("\\R")) {
      if (!l.isBlank()) {
        line = l;
        break;
      }
    }
    String t = line.strip()
        .replaceFirst("(?i)^(title\\s*:\\s*)", "")
        .replaceAll("^[\\s\"'“”‘’«»*#`]+|[\\s\"'“”‘’«»*`]+$", "")
        .replaceAll("[.!,;:。]+$", "")
        .replaceAll("\\s+", " ")
        .strip();
    if (t.length() <= maxChars) {
      return t;
    }
    int cut = t.lastIndexOf(' ', maxChars);
    String head = (cut > maxChars / 2 ? t.substring(0, cut) : t.substring(0, maxChars)).strip();
    if (Character.isHighSurrogate(head.charAt(head.length() - 1))) {
      head = head.substring(0, head.length() - 1);
    }
    return head;
  }
}
