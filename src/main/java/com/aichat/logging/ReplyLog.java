package com.aichat.logging;

import org.slf4j.Logger;
import org.slf4j.MDC;
import org.slf4j.event.Level;

/**
 * Log lines about one reply, carrying {@code messageId}, {@code sessionId} and {@code attempt} as MDC
 * fields (the JSON log format prints them under {@code mdc}), not only in the text. On an event loop
 * many replies share a thread, so the fields are set just around each call and then restored; nothing
 * leaks to the next line. A field that is not known yet (a reply not claimed yet has no attempt) is
 * left out.
 */
public final class ReplyLog {

  public static final String MESSAGE_ID = "messageId";
  public static final String SESSION_ID = "sessionId";
  public static final String ATTEMPT = "attempt";

  private final Logger log;
  private final String messageId;
  private String sessionId;
  private int attempt;

  public ReplyLog(Logger log, String messageId) {
    this.log = log;
    this.messageId = messageId;
  }

  /** Sets the fields learnt later (at the claim). */
  public ReplyLog with(String sessionId, int attempt) {
    this.sessionId = sessionId;
    this.attempt = attempt;
    return this;
  }

  public void debug(String format, Object... args) {
    log(Level.DEBUG, format, args);
  }

  public void info(String format, Object... args) {
    log(Level.INFO, format, args);
  }

  public void warn(String format, Object... args) {
    log(Level.WARN, format, args);
  }

  public void log(Level level, String format, Object... args) {
    if (!log.isEnabledForLevel(level)) {
      return;
    }
    String prevMessage = MDC.get(MESSAGE_ID);
    String prevSession = MDC.get(SESSION_ID);
    String prevAttempt = MDC.get(ATTEMPT);
    try {
      put(MESSAGE_ID, messageId);
      put(SESSION_ID, sessionId);
      put(ATTEMPT, attempt > 0 ? Integer.toString(attempt) : null);
      log.atLevel(level).log(format, args);
    } finally {
      put(MESSAGE_ID, prevMessage);
      put(SESSION_ID, prevSession);
      put(ATTEMPT, prevAttempt);
    }
  }

  /** One line about {@code messageId} from code that holds no {@link ReplyLog} (e.g. the dispatcher). */
  public static void info(Logger log, String messageId, String format, Object... args) {
    new ReplyLog(log, messageId).info(format, args);
  }

  public static void warn(Logger log, String messageId, String format, Object... args) {
    new ReplyLog(log, messageId).warn(format, args);
  }

  private static void put(String key, String value) {
    if (value == null) {
      MDC.remove(key);
    } else {
      MDC.put(key, value);
    }
  }
}
