package com.aichat.dispatch;

import com.aichat.config.ConfigReader;
import java.util.Set;

/**
 * {@code dispatch.*}.
 *
 * @param mode {@code dispatch.mode}: {@code local} (default; event bus to an AI worker) or
 *     {@code cloud-tasks} (an HTTP task calling {@code /internal/chat-ai-worker})
 * @param sweepIntervalMs {@code dispatch.sweep_interval_ms} (default 5000): how often the recovery
 *     sweep looks for stranded replies
 * @param pendingGraceMs {@code dispatch.pending_grace_ms} (default 15000): a pending reply untouched
 *     this long is dispatched again
 * @param sweepBatch {@code dispatch.sweep_batch} (default 100): replies re-dispatched per sweep at most
 */
public record DispatchSettings(String mode, long sweepIntervalMs, long pendingGraceMs, int sweepBatch) {

  public static DispatchSettings from(ConfigReader r) {
    return new DispatchSettings(
        r.oneOf("mode", "local", Set.of("local", "cloud-tasks")),
        r.longValue("sweep_interval_ms", 5000, 50, 3_600_000),
        r.longValue("pending_grace_ms", 15_000, 0, 86_400_000),
        r.intValue("sweep_batch", 100, 1, 10_000));
  }

  public boolean cloudTasks() {
    return mode.equals("cloud-tasks");
  }
}
