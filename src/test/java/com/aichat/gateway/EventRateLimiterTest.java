package com.aichat.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.gateway.EventRateLimiter.Verdict;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class EventRateLimiterTest {

  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final EventRateLimiter limiter = new EventRateLimiter(1, 3, 4, now::get);

  @Test
  @DisplayName("The budget is per user and survives reconnects: a new socket of the same user gets no fresh burst")
  void budgetIsPerUserAcrossReconnects() {
    for (int i = 0; i < 3; i++) {
      assertThat(limiter.onEvent("alice")).isEqualTo(Verdict.SERVE);
    }
    assertThat(limiter.onEvent("alice")).isEqualTo(Verdict.REFUSE);
    // alice's socket is disconnected and she reconnects at once: still refused (was: a fresh burst)
    assertThat(limiter.onEvent("alice")).isEqualTo(Verdict.REFUSE);
    assertThat(limiter.onEvent("bob")).as("another user has his own budget").isEqualTo(Verdict.SERVE);
    now.addAndGet(1_000_000_000L);
    assertThat(limiter.onEvent("alice")).as("one token refilled after 1 s at 1/s").isEqualTo(Verdict.SERVE);
  }

  @Test
  @DisplayName("Refusals in a row reach max_rejected_events: disconnect; a served event resets the count")
  void sustainedOverLimitDisconnects() {
    for (int i = 0; i < 3; i++) {
      limiter.onEvent("mallory");
    }
    assertThat(limiter.onEvent("mallory")).isEqualTo(Verdict.REFUSE);
    assertThat(limiter.onEvent("mallory")).isEqualTo(Verdict.REFUSE);
    assertThat(limiter.onEvent("mallory")).isEqualTo(Verdict.REFUSE);
    assertThat(limiter.onEvent("mallory")).isEqualTo(Verdict.DISCONNECT);
  }

  @Test
  @DisplayName("evictIdle drops only buckets that have refilled completely")
  void evictIdleKeepsBucketsStillDraining() {
    limiter.onEvent("a");
    for (int i = 0; i < 3; i++) {
      limiter.onEvent("b");
    }
    now.addAndGet(1_000_000_000L); // a: 2 + 1 = full; b: 0 + 1 = not full
    limiter.evictIdle();
    assertThat(limiter.tracked()).isEqualTo(1);
    assertThat(limiter.onEvent("b")).isEqualTo(Verdict.SERVE);
    assertThat(limiter.onEvent("b")).as("b kept its drained state").isEqualTo(Verdict.REFUSE);
  }
}
