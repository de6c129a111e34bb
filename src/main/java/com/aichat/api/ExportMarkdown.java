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
 */
final class ExportMarkdown {

  private ExportMarkdown() {}

  static String head(ChatSession s, Instant exportedAt) {
    StringBuilder sb = new StringBuilder();
    sb.append("# ").append(oneLine(s.title())).append("\n\n");
    sb.append("- Session: `").append(s.id()).append("`\n");
    if (s.teamId() != null) {
      sb.append("- Team: `").append(s.teamId()).append("`\n");
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
    sb.append(" · ").append(m.getString("createdAt", ""));
    if (m.getString("model") != null) {
      sb.append(" · ").append(oneLine(m.getString("model")));
    }
    if (!status.equals("completed") && !status.isEmpty()) {
      sb.append(" · ").append(status);
    }
    sb.append("\n\n");
    if (type.equals("ai_error")) {
      JsonObject error = m.getJsonObject("error", new JsonObject());
      sb.append("> **AI error** `").append(oneLine(error.getString("code", "unknown"))).append("`: ")
          .append(oneLine(error.getString("message", ""))).append("\n\n");
    }
    String content = m.getString("content", "");
    if (!content.isEmpty()) {
      sb.append(content).append(content.endsWith("\n") ? "" : "\n");
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
            sb.append(" · ").append(oneLine(s));
          }
        }
        sb.append("\n\n");
        if (o.getJsonObject("error") != null) {
          sb.append("> **AI error** `").append(oneLine(o.getJsonObject("error").getString("code", "unknown")))
              .append("`: ").append(oneLine(o.getJsonObject("error").getString("message", ""))).append("\n\n");
        }
        String content = o.getValue("content") instanceof String s ? s : null;
        if (content != null) {
          sb.append(content).append(content.endsWith("\n") ? "" : "\n");
        } else {
          sb.append("```json\n").append(o.encode()).append("\n```\n");
        }
      } else {
        sb.append("\n\n").append(v == null ? "" : v.toString()).append('\n');
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
      default -> oneLine(type);
    };
  }

  /** Newlines would break a heading or a list item. */
  private static String oneLine(String s) {
    return s == null ? "" : s.replaceAll("[\\r\\n]+", " ");
  }
}
