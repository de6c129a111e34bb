package com.aichat.ai.provider;

import com.aichat.contract.ChatMessage.Usage;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * The offline model: the embedded default when no Claude API key is configured. Deterministic (the
 * same context always gives the same reply), clearly labelled offline in its text and in
 * {@link #MODEL}, and it streams its reply {@code offline.chunk_chars} characters at a time every
 * {@code offline.chunk_delay_ms} on Vert.x timers. Its reply describes the context it received, so the
 * whole pipeline, history included, can be watched without a network.
 */
public final class OfflineModel implements ModelProvider {

  /** The {@code model} recorded on offline replies. */
  public static final String MODEL = "offline-echo-1";

  private static final int MAX_QUOTE = 200;

  private final Vertx vertx;
  private final ProviderSettings.Offline cfg;

  public OfflineModel(Vertx vertx, ProviderSettings.Offline cfg) {
    this.vertx = vertx;
    this.cfg = cfg;
  }

  @Override
  public ModelCall stream(ModelRequest request, Consumer<String> onText) {
    String reply = ModelRequest.PURPOSE_TITLE.equals(request.purpose()) ? title(request)
        : ModelRequest.PURPOSE_SUMMARY.equals(request.purpose()) ? composeSummary(request)
        : compose(request);
    return new OfflineCall(reply, onText, new Usage(estimateTokens(request), estimateTokens(reply)));
  }

  /** The reply for a context: a pure function of the request. */
  public static String compose(ModelRequest request) {
    int earlier = request.turns().size() - 1;
    long userTurns =
        request.turns().stream().limit(Math.max(0, earlier)).filter(t -> t.role().equals(ModelRequest.Turn.USER)).count();
    String question = request.question().strip();
    String quoted = question.length() > MAX_QUOTE ? question.substring(0, MAX_QUOTE) + "…" : question;
    StringBuilder sb = new StringBuilder();
    sb.append("[Offline model ").append(MODEL).append(": no AI service is configured, so this reply was ")
        .append("generated locally and deterministically from the conversation context.]\n\n");
    sb.append("Context received: ").append(earlier).append(earlier == 1 ? " earlier turn" : " earlier turns")
        .append(" (").append(userTurns).append(" from you, ").append(earlier - userTurns).append(" from the assistant).\n");
    sb.append("Your last question: \"").append(quoted).append("\"\n\n");
    sb.append("Report:\n");
    String[] words = question.isEmpty() ? new String[0] : question.split("\\s+");
    sb.append("- Your question has ").append(words.length).append(words.length == 1 ? " word" : " words")
        .append(" and ").append(question.length()).append(" characters.\n");
    String keywords = keywords(request);
    sb.append("- Main keywords of this conversation: ").append(keywords.isEmpty() ? "(none)" : keywords).append(".\n");
    if (earlier > 0) {
      String first = request.turns().get(0).text().strip();
      sb.append("- The conversation window starts with: \"")
          .append(first.length() > 60 ? first.substring(0, 60) + "…" : first).append("\"\n");
    } else {
      sb.append("- This is the first question of the conversation.\n");
    }
    sb.append("\nSet ANTHROPIC_API_KEY (claude.api_key) to get real answers from Claude.");
    return sb.toString();
  }

  /** Words an offline title keeps at most. */
  public static final int TITLE_WORDS = 6;

  /**
   * The title for a title request ({@link ModelRequest#PURPOSE_TITLE}): the first
   * {@value #TITLE_WORDS} words of the first user turn, stripped of surrounding punctuation, the
   * first letter upper-cased; {@code "Chat"} when there are none. A pure function of the request.
   */
  public static String title(ModelRequest request) {
    String first = request.turns().stream()
        .filter(t -> t.role().equals(ModelRequest.Turn.USER))
        .map(ModelRequest.Turn::text)
        .findFirst()
        .orElse("");
    StringBuilder sb = new StringBuilder();
    int words = 0;
    for (String raw : first.strip().split("\\s+")) {
      String w = raw.replaceAll("^[^\\p{L}\\p{N}]+|[^\\p{L}\\p{N}]+$", "");
      if (w.isEmpty()) {
        continue;
      }
      if (sb.length() > 0) {
        sb.append(' ');
      }
      sb.append(w);
      if (++words == TITLE_WORDS) {
        break;
      }
    }
    if (sb.length() == 0) {
      return "Chat";
    }
    int cp = sb.codePointAt(0);
    return new StringBuilder().appendCodePoint(Character.toUpperCase(cp)).append(sb.substring(Character.charCount(cp)))
        .toString();
  }

  /** At most this many bullet points are kept in an offline summary (the newest). */
  static final int SUMMARY_BULLETS = 20;

  private static final java.util.regex.Pattern FOLDED = java.util.regex.Pattern.compile("(\\d+) messages folded in");

  /**
   * The offline summary of a summary request ({@link com.aichat.ai.context.SummaryRequest}): a pure
   * function of it. A header counts the messages folded in so far (the previous summary's count plus
   * the transcript's lines), then one bullet per user line of the transcript after the previous
   * summary's bullets, the newest {@value #SUMMARY_BULLETS} kept, so it stays bounded however long the
   * session grows.
   */
  public static String composeSummary(ModelRequest request) {
    String text = request.question();
    long folded = 0;
    List<String> bullets = new ArrayList<>();
    int prevStart = text.indexOf("<previous-summary>");
    int prevEnd = text.indexOf("</previous-summary>");
    if (prevStart >= 0 && prevEnd > prevStart) {
      String previous = text.substring(prevStart, prevEnd);
      java.util.regex.Matcher m = FOLDED.matcher(previous);
      if (m.find()) {
        folded = Long.parseLong(m.group(1));
      }
      previous.lines().filter(l -> l.startsWith("- ")).forEach(bullets::add);
    }
    int start = text.indexOf("<transcript>");
    int end = text.indexOf("</transcript>");
    String transcript = start >= 0 && end > start ? text.substring(start, end) : "";
    for (String line : transcript.lines().toList()) {
      if (line.startsWith("User: ")) {
        folded++;
        String said = line.substring(6).strip();
        bullets.add("- The user said: \"" + (said.length() > 100 ? said.substring(0, 100) + "…" : said) + "\"");
      } else if (line.startsWith("Assistant: ")) {
        folded++;
      }
    }
    List<String> kept = bullets.subList(Math.max(0, bullets.size() - SUMMARY_BULLETS), bullets.size());
    return "[Offline summary by " + MODEL + ", written locally and deterministically: " + folded
        + " messages folded in so far.]\n" + String.join("\n", kept);
  }

  /** Up to five words of four or more letters, most frequent first, ties alphabetical. */
  private static String keywords(ModelRequest request) {
    Map<String, Integer> counts = new LinkedHashMap<>();
    for (ModelRequest.Turn turn : request.turns()) {
      if (!turn.role().equals(ModelRequest.Turn.USER)) {
        continue;
      }
      for (String w : turn.text().toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+")) {
        if (w.length() >= 4) {
          counts.merge(w, 1, Integer::sum);
        }
      }
    }
    return counts.entrySet().stream()
        .sorted(Map.Entry.<String, Integer>comparingByValue(Comparator.reverseOrder()).thenComparing(Map.Entry.comparingByKey()))
        .limit(5)
        .map(Map.Entry::getKey)
        .collect(Collectors.joining(", "));
  }

  private static long estimateTokens(ModelRequest request) {
    return request.turns().stream().mapToLong(t -> estimateTokens(t.text())).sum();
  }

  private static long estimateTokens(String text) {
    return (text.length() + 3) / 4;
  }

  /** Streams the precomputed reply chunk by chunk on timers. */
  private final class OfflineCall implements ModelCall {

    private final String reply;
    private final Consumer<String> onText;
    private final Usage usage;
    private final Promise<ModelResult> result = Promise.promise();
    private int position;
    private long timer = -1;

    OfflineCall(String reply, Consumer<String> onText, Usage usage) {
      this.reply = reply;
      this.onText = onText;
      this.usage = usage;
      schedule();
    }

    private void schedule() {
      timer = vertx.setTimer(Math.max(1, cfg.chunkDelayMs()), t -> emitChunk());
    }

    private void emitChunk() {
      if (result.future().isComplete()) {
        return;
      }
      int end = Math.min(reply.length(), position + cfg.chunkChars());
      // never split a surrogate pair across two chunks
      if (end < reply.length() && Character.isHighSurrogate(reply.charAt(end - 1))) {
        end++;
      }
      onText.accept(reply.substring(position, end));
      position = end;
      if (position >= reply.length()) {
        result.tryComplete(new ModelResult(MODEL, usage, "end_turn"));
      } else {
        schedule();
      }
    }

    @Override
    public Future<ModelResult> result() {
      return result.future();
    }

    @Override
    public void abort() {
      vertx.cancelTimer(timer);
      result.tryFail(ProviderException.aborted());
    }
  }
}
