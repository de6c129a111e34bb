package com.aichat.gateway;

import com.aichat.contract.DeltaEvent;
import java.util.ArrayList;
import java.util.List;

/**
 * What one socket holds of one generating reply: the length of its text (UTF-16 code units, like a
 * JavaScript string) and the seq of the last delta it got. The gateway forwards a delta to the socket
 * only when it continues exactly at that length, so each socket sees a gap-free, duplicate-free
 * stream whatever the order in which snapshot and deltas reached the gateway.
 */
final class ReplyCursor {

  /** What to do with one incoming delta. */
  enum Verdict { DELIVER, DUPLICATE, GAP, HOLD, STALE, FENCED }

  long length;
  long seq;
  /** The generation attempt the socket's text belongs to (the message's {@code attempts}). */
  int attempt;
  /** A resync (progress request) is in flight; deltas wait in {@link #held}. */
  boolean resyncing;
  /**
   * Names the resync in flight ({@link #beginResync}): a restart changes it, so the answer of a resync
   * begun for an earlier attempt is recognised as such ({@link #answers}) and never applied.
   */
  private long resyncTicket;
  /** A resync brought nothing new: further deltas are dropped; the final event carries the content. */
  boolean stale;
  final List<DeltaEvent> held = new ArrayList<>();
  /** A fenced delta of this reply was logged already (once per socket and reply). */
  boolean fencedLogged;

  ReplyCursor(long length, long seq, int attempt) {
    this.length = length;
    this.seq = seq;
    this.attempt = attempt;
  }

  Verdict classify(DeltaEvent d) {
    if (d.attempt() > 0 && d.attempt() < attempt) {
      // an earlier attempt's worker that has not learnt yet that its lease is gone: never mix it in
      return Verdict.FENCED;
    }
    if (stale) {
      return Verdict.STALE;
    }
    if (resyncing) {
      return Verdict.HOLD;
    }
    long end = d.offset() + d.text().length();
    if (end <= length && !(d.offset() == length && d.text().isEmpty())) {
      return Verdict.DUPLICATE;
    }
    return d.offset() <= length ? Verdict.DELIVER : Verdict.GAP;
  }

  /** The part of {@code d} this socket does not have yet, as a delta starting at {@link #length}. */
  DeltaEvent unseenPart(DeltaEvent d) {
    int skip = (int) (length - d.offset());
    DeltaEvent out =
        skip == 0
            ? d
            : new DeltaEvent(
                d.userId(), d.sessionId(), d.messageId(), d.seq(), length, d.text().substring(skip));
    length = d.offset() + d.text().length();
    seq = d.seq();
    return out;
  }

  /** A new generation attempt starts from nothing. */
  void restart(int newAttempt) {
    restart(newAttempt, 0);
  }

  /**
   * A new generation attempt starts at {@code start}: 0, or the length of the text a continue continues.
   * Nothing of the earlier attempt carries over: the deltas held for its resync are dropped and that
   * resync's answer will be ignored. They all reached the gateway before this attempt's
   * {@code message.processing} (a worker publishes its deltas before the next claim is published), so
   * they belong to an earlier attempt, whether or not they carry one: replayed into this attempt they
   * would be a gap (the cursor then went stale) and would hold its live deltas until the old resync's
   * answer came back.
   */
  void restart(int newAttempt, long start) {
    attempt = newAttempt;
    length = start;
    seq = 0;
    stale = false;
    resyncing = false;
    held.clear();
    resyncTicket++;
  }

  /** A gap: deltas are held until the resync returned by this call {@link #answers} and ends. */
  long beginResync() {
    resyncing = true;
    return ++resyncTicket;
  }

  /** Whether {@code ticket}'s resync is still the one in flight (no restart nor newer resync since). */
  boolean answers(long ticket) {
    return resyncing && ticket == resyncTicket;
  }
}
