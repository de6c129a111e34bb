package com.aichat.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.contract.DeltaEvent;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("A socket's cursor over one reply forwards exactly the text the socket does not have")
class ReplyCursorTest {

  private static DeltaEvent delta(long seq, long offset, String text) {
    return new DeltaEvent("u", "s", "m", seq, offset, text);
  }

  @Test
  @DisplayName("A delta starting at the held length is delivered as is and advances the cursor")
  void contiguous() {
    ReplyCursor c = new ReplyCursor(5, 1, 1);
    assertThat(c.classify(delta(2, 5, "world"))).isEqualTo(ReplyCursor.Verdict.DELIVER);
    assertThat(c.unseenPart(delta(2, 5, "world"))).isEqualTo(delta(2, 5, "world"));
    assertThat(c.length).isEqualTo(10);
    assertThat(c.seq).isEqualTo(2);
  }

  @Test
  @DisplayName("A delta of an earlier attempt is fenced, even where its offset would fit; the current and unknown attempts are not")
  void earlierAttemptFenced() {
    ReplyCursor c = new ReplyCursor(0, 0, 1);
    c.restart(2);
    DeltaEvent late = new DeltaEvent("u", "s", "m", 7, 0, "old worker's text", 1);
    assertThat(c.classify(late)).isEqualTo(ReplyCursor.Verdict.FENCED);
    assertThat(c.classify(new DeltaEvent("u", "s", "m", 1, 0, "new", 2))).isEqualTo(ReplyCursor.Verdict.DELIVER);
    assertThat(c.classify(delta(1, 0, "unknown attempt"))).isEqualTo(ReplyCursor.Verdict.DELIVER);
    assertThat(DeltaEvent.fromJson(late.toJson())).isEqualTo(late);
    assertThat(delta(1, 0, "x").toJson().containsKey("attempt")).isFalse();
  }

  @Test
  @DisplayName("A delta the snapshot already covers is a duplicate")
  void duplicate() {
    ReplyCursor c = new ReplyCursor(10, 2, 1);
    assertThat(c.classify(delta(1, 0, "hello"))).isEqualTo(ReplyCursor.Verdict.DUPLICATE);
    assertThat(c.classify(delta(2, 5, "world"))).isEqualTo(ReplyCursor.Verdict.DUPLICATE);
  }

  @Test
  @DisplayName("A delta overlapping the held text is trimmed to its unseen part, at the held length")
  void overlap() {
    ReplyCursor c = new ReplyCursor(7, 2, 1);
    assertThat(c.classify(delta(2, 5, "world"))).isEqualTo(ReplyCursor.Verdict.DELIVER);
    DeltaEvent out = c.unseenPart(delta(2, 5, "world"));
    assertThat(out.offset()).isEqualTo(7);
    assertThat(out.text()).isEqualTo("rld");
    assertThat(c.length).isEqualTo(10);
  }

  @Test
  @DisplayName("A delta beyond the held length is a gap; while resyncing deltas are held; a stale cursor drops them")
  void gapHoldStale() {
    ReplyCursor c = new ReplyCursor(3, 1, 1);
    assertThat(c.classify(delta(3, 8, "x"))).isEqualTo(ReplyCursor.Verdict.GAP);
    c.resyncing = true;
    assertThat(c.classify(delta(2, 3, "abc"))).isEqualTo(ReplyCursor.Verdict.HOLD);
    c.resyncing = false;
    c.stale = true;
    assertThat(c.classify(delta(2, 3, "abc"))).isEqualTo(ReplyCursor.Verdict.STALE);
  }

  @Test
  @DisplayName("A restart for a new attempt starts again from an empty text")
  void restart() {
    ReplyCursor c = new ReplyCursor(40, 9, 1);
    c.stale = true;
    c.restart(2);
    assertThat(c.attempt).isEqualTo(2);
    assertThat(c.classify(delta(1, 0, "new"))).isEqualTo(ReplyCursor.Verdict.DELIVER);
  }

  @Test
  @DisplayName("A restart during a resync ends it: the held deltas of the old attempt are dropped and the old resync's answer no longer applies")
  void restartEndsTheResyncOfTheOldAttempt() {
    ReplyCursor c = new ReplyCursor(0, 0, 0);
    assertThat(c.classify(delta(2, 3, "a1 "))).isEqualTo(ReplyCursor.Verdict.GAP);
    long old = c.beginResync();
    c.held.add(delta(2, 3, "a1 "));
    assertThat(c.answers(old)).isTrue();
    c.restart(2);
    assertThat(c.answers(old)).isFalse();
    assertThat(c.held).isEmpty();
    assertThat(c.classify(delta(1, 0, "b1 "))).isEqualTo(ReplyCursor.Verdict.DELIVER);
    assertThat(c.classify(delta(2, 9, "b3 "))).isEqualTo(ReplyCursor.Verdict.GAP);
    long fresh = c.beginResync();
    assertThat(c.answers(old)).isFalse();
    assertThat(c.answers(fresh)).isTrue();
  }
}
