package com.aichat.ai;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Capped exponential backoff with full jitter")
class BackoffTest {

  private static final WorkerSettings SETTINGS =
      new WorkerSettings(8, 16, 64, 2, 30_000, 1000, 50, 1024, 4, 100, 1000, 40, 12_000, 4);

  @Test
  @DisplayName("delays stay within [0, min(max, initial * 2^(n-1))] and are spread out")
  void boundsAndJitter() {
    long[] caps = {100, 200, 400, 800, 1000, 1000};
    for (int attempt = 1; attempt <= caps.length; attempt++) {
      long min = Long.MAX_VALUE;
      long max = 0;
      for (int i = 0; i < 500; i++) {
        long d = Backoff.delayMs(SETTINGS, attempt, -1);
        min = Math.min(min, d);
        max = Math.max(max, d);
      }
      assertThat(max).as("attempt %d", attempt).isLessThanOrEqualTo(caps[attempt - 1]);
      assertThat(min).as("attempt %d", attempt).isGreaterThanOrEqualTo(0).isLessThan(caps[attempt - 1] / 2);
      assertThat(max).as("attempt %d", attempt).isGreaterThan(caps[attempt - 1] / 2);
    }
  }

  @Test
  @DisplayName("a retry-after is a floor, even above the cap")
  void retryAfterIsAFloor() {
    for (int i = 0; i < 100; i++) {
      assertThat(Backoff.delayMs(SETTINGS, 1, 5000)).isEqualTo(5000);
      assertThat(Backoff.delayMs(SETTINGS, 3, 150)).isBetween(150L, 400L);
    }
  }
}
