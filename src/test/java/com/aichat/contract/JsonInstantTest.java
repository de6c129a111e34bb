package com.aichat.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class JsonInstantTest {

  @Test
  @DisplayName("parseInstant answers what OffsetDateTime.parse answers for 20,000 random UTC instants in every precision and both UTC spellings")
  void agreesWithTheJdkOnUtcForms() {
    SplittableRandom random = new SplittableRandom(42);
    for (int i = 0; i < 20_000; i++) {
      Instant t = Instant.ofEpochSecond(random.nextLong(-62_135_596_800L, 253_402_300_799L), random.nextInt(1_000_000_000));
      for (String s : List.of(t.toString(), OffsetDateTime.ofInstant(t, ZoneOffset.UTC).format(DateTimeFormatter.ISO_OFFSET_DATE_TIME),
          t.toString().replace("Z", "+00:00"), Instant.ofEpochMilli(t.toEpochMilli()).toString())) {
        assertThat(Json.parseInstant(s)).as(s).isEqualTo(OffsetDateTime.parse(s).toInstant());
      }
    }
  }

  @Test
  @DisplayName("Other offsets, short and odd forms take the JDK's path: same answer, same exception")
  void otherFormsFallBackToTheJdk() {
    for (String s : List.of("2026-12-07T23:38:37+02:00", "2026-12-07T23:38:37.5-05:30", "2026-12-07T23:38Z",
        "+12026-12-07T23:38:37Z", "2024-02-29T00:00:00Z", "2026-12-07T23:38:37.123456789Z", "2026-12-07T23:38:37.Z")) {
      assertThat(Json.parseInstant(s)).as(s).isEqualTo(OffsetDateTime.parse(s).toInstant());
    }
    for (String bad : List.of("2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z", "2026-12-07T24:00:00Z",
        "2026-12-07T23:38:37", "2026-12-07 23:38:37Z", "2026-12-07T23:38:37.1234567890Z", "")) {
      assertThatThrownBy(() -> Json.parseInstant(bad)).as(bad).isInstanceOf(DateTimeParseException.class);
    }
  }
}
