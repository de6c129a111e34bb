package com.aichat.api;

import com.aichat.contract.ChatSession;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * The Markdown form of an export: a title and a metadata list, then one {@code ##} section per message
 * ("User", "Assistant", "⚠️ AI error", "System") with its time, model and status, its content, and, for a
 * message with {@code versions}, one {@code ###} subsection per version. An {@code ai_error} starts with
 * a quoted {@code **AI error**} line naming its code and message; a reply that did not complete says so.
 *
 * <p>Content cannot change the file's structure (issue 24 finding 8): each message's (and version's)
 * text is a fenced code block whose backtick fence is longer than any backtick run in the text, so no
 * line of it can close the fence, start a section, or be read as HTML. Every other value that comes
 * from a user or a provider (the title, the model, error codes and messages, an unknown type) is put on
 * one line, its HTML characters escaped as entities and its Markdown punctuation with backslashes, so it
 * renders as the literal text (no tag, link, image or emphasis).
 */
final class ExportMarkdown {

  private ExportMarkdown() {}

  static String head(ChatSession s, Instant exportedAt) {
    StringBuilder sb = new StringBuilder();
    sb.append("# ").append(text(s.title())).append("\n\n");
    sb.append("- Session: ").append(code(s.id())).append('\n');
    if (s.teamId() != null) {
      sb.append("- Team: ").append(code(s.teamId())).append('\n');
    }
    sb.append("- Created: ").append(s.createdAt()).append('\n');
    sb.append("- Updated: ").append(s.updatedAt()).append('\n');
    if (s.lastMessageAt() != null) {
      sb.append("- Last message: ").append(s.lastMessageAt()).append('\n');
    }
    sb.append("- Exported: ").append(exportedAt).append("\n\n---\n");
    return sb.toString();
  }

  static String message(long n, JsonObject m) {
    String type = m.getString("messageType", "");
    String status = m.getString("status", "");
    StringBuilder sb = new StringBuilder("\n## ").append(n).append(". ").append(label(type));
    sb.append(" · ").append(text(m.getString("createdAt", "")));
    if (m.getString("model") != null) {
      sb.append(" · ").append(text(m.getString("model")));
    }
    if (!status.equals("completed") && !status.isEmpty()) {
      sb.append(" · ").append(text(status));
    }
    sb.append("\n\n");
    if (type.equals("ai_error")) {
      appendError(sb, m.getJsonObject("error", new JsonObject()));
    }
    String content = m.getString("content", "");
    if (!content.isEmpty()) {
      appendFenced(sb, content);
    } else if (!type.equals("ai_error")) {
      sb.append("_(no content)_\n");
    }
    if (m.getValue("versions") instanceof JsonArray versions && !versions.isEmpty()) {
      appendVersions(sb, versions);
    }
    return sb.toString();
  }

  private static void appendVersions(StringBuilder sb, JsonArray versions) {
    for (int i = 0; i < versions.size(); i++) {
      Object v = versions.getValue(i);
      sb.append("\n### Version ").append(i + 1);
      if (v instanceof JsonObject o) {
        for (String key : new String[] {"createdAt", "model", "status"}) {
          if (o.getValue(key) instanceof String s) {
            sb.append(" · ").append(text(s));
          }
        }
        sb.append("\n\n");
        if (o.getValue("error") instanceof JsonObject error) {
          appendError(sb, error);
        }
        String content = o.getValue("content") instanceof String s ? s : null;
        if (content != null) {
          appendFenced(sb, content);
        } else {
          appendFenced(sb, "json", o.encode());
        }
      } else {
        sb.append("\n\n");
        appendFenced(sb, v == null ? "" : v.toString());
      }
    }
  }

  static String tail(long messages, long aiErrors) {
    return "\n---\n\n_" + messages + " messages, " + aiErrors + " AI errors._\n";
  }

  private static String label(String type) {
    return switch (type) {
      case "user" -> "User";
      case "ai_report" -> "Assistant";
      case "ai_error" -> "⚠️ AI error";
      case "system" -> "System";
      default -> text(type);
    };
  }

  private static void appendError(StringBuilder sb, JsonObject error) {
    sb.append("> **AI error** ").append(code(error.getValue("code") instanceof String c ? c : "unknown"))
        .append(": ").append(text(error.getValue("message") instanceof String m ? m : "")).append("\n\n");
  }

  private static void appendFenced(StringBuilder sb, String content) {
    appendFenced(sb, "text", content);
  }

  /**
   * {@code content} as a fenced code block: the fence is one backtick longer than the longest backtick
   * run in it (at least three), so nothing inside can close it; CommonMark shows the lines verbatim.
   */
  static void appendFenced(StringBuilder sb, String info, String content) {
    String fence = "`".repeat(Math.max(3, longestRun(content, '`') + 1));
    sb.append(fence).append(info).append('\n').append(content);
    if (!content.isEmpty() && !content.endsWith("\n")) {
      sb.append('\n');
    }
    sb.append(fence).append('\n');
  }

  /** An inline code span of {@code s} on one line, delimited by a backtick run longer than any inside. */
  static String code(String s) {
    String one = oneLine(s);
    String ticks = "`".repeat(longestRun(one, '`') + 1);
    // a span that starts or ends with a backtick needs a space inside its delimiters (stripped when shown)
    String pad = one.startsWith("`") || one.endsWith("`") || one.isBlank() ? " " : "";
    return ticks + pad + one + pad + ticks;
  }

  private static int longestRun(String s, char c) {
    int longest = 0;
    int run = 0;
    for (int i = 0; i < s.length(); i++) {
      run = s.charAt(i) == c ? run + 1 : 0;
      longest = Math.max(longest, run);
    }
    return longest;
  }

  /**
   * {@code s} as literal inline text on one line: line breaks become spaces, {@code & < > "} entities,
   * and the other ASCII punctuation Markdown gives a meaning to is backslash-escaped.
   */
  static String text(String s) {
    String one = oneLine(s);
    StringBuilder out = new StringBuilder(one.length() + 16);
    for (int i = 0; i < one.length(); i++) {
      char c = one.charAt(i);
      switch (c) {
        case '&' -> out.append("&amp;");
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '"' -> out.append("&quot;");
        // (- + . = : only mean something at the start of a line, where this text never is)
        case '\\', '`', '*', '_', '[', ']', '(', ')', '!', '#', '|', '~', '{', '}' ->
            out.append('\\').append(c);
        default -> out.append(c);
      }
    }
    return out.toString();
  }

  /** Line breaks (any a Markdown reader or a browser honours) would break a heading or a list item. */
  private static String oneLine(String s) {
    return s == null ? "" : s.replaceAll("[\\r\\n\\u000B\\u000C\\u0085\\u2028\\u2029]+", " ");
  }
}
