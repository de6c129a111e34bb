package com.aichat.limits;

import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import java.util.HashMap;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The slot map's entry processors, run by a real (single-member, no network join) Hazelcast member. */
class GenerationSlotsTest {

  private static final long LEASE = 5_000;
  private static HazelcastInstance hz;
  private static IMap<String, HashMap<String, ClusterLimits.Slot>> slots;

  @BeforeAll
  static void start() {
    Config config = new Config().setClusterName("slots-" + UUID.randomUUID());
    config.setProperty("hazelcast.logging.type", "slf4j");
    config.getNetworkConfig().setPort(0).setPortAutoIncrement(true);
    config.getNetworkConfig().getJoin().getMulticastConfig().setEnabled(false);
    config.getNetworkConfig().getJoin().getAutoDetectionConfig().setEnabled(false);
    config.getNetworkConfig().getInterfaces().setEnabled(true).addInterface("127.0.0.1");
    hz = Hazelcast.newHazelcastInstance(config);
    slots = hz.getMap(ClusterLimits.SLOT_MAP);
  }

  @AfterAll
  static void stop() {
    if (hz != null) {
      hz.shutdown();
    }
  }

  private static boolean acquire(String user, String reply, String worker, long now) {
    return slots.executeOnKey(user, new ClusterLimits.AcquireSlot(reply, worker, 1, now, LEASE));
  }

  private static boolean release(String user, String reply, String worker, long now) {
    return slots.executeOnKey(user, new ClusterLimits.ReleaseSlot(reply, worker, now));
  }

  private static int held(String user, long now) {
    return slots.executeOnKey(user, new ClusterLimits.CountSlots(now));
  }

  @Test
  @DisplayName("A reply dispatched to two workers holds one slot; the worker that lost the claim gives back only its own hold, so the user's next reply still waits")
  void aDuplicateWorkersReleaseKeepsTheRunningWorkersSlot() {
    String user = "u-" + UUID.randomUUID();
    long now = System.currentTimeMillis();
    assertThat(acquire(user, "r2", "worker-x", now)).as("x runs r2").isTrue();
    assertThat(acquire(user, "r2", "worker-y", now + 1)).as("y got the same reply: it shares the slot").isTrue();
    assertThat(held(user, now + 2)).isEqualTo(1);
    assertThat(release(user, "r2", "worker-y", now + 3)).as("y lost the claim and gives back its hold").isTrue();
    assertThat(held(user, now + 4)).as("x still holds r2's slot").isEqualTo(1);
    assertThat(acquire(user, "r3", "worker-y", now + 5)).as("the cap of 1 holds r3 back").isFalse();
    assertThat(release(user, "r2", "worker-x", now + 6)).isTrue();
    assertThat(held(user, now + 7)).isZero();
    assertThat(acquire(user, "r3", "worker-y", now + 8)).as("r2 ended: r3 runs").isTrue();
  }

  @Test
  @DisplayName("A worker's hold lapses after its lease unless renewed, and a release by a worker that holds nothing changes nothing")
  void holdsLapseAndForeignReleasesAreIgnored() {
    String user = "u-" + UUID.randomUUID();
    long now = System.currentTimeMillis();
    assertThat(acquire(user, "r1", "worker-x", now)).isTrue();
    assertThat(release(user, "r1", "worker-z", now + 1)).as("z holds nothing").isFalse();
    assertThat(acquire(user, "r2", "worker-y", now + LEASE - 1)).as("x's hold is live").isFalse();
    assertThat(acquire(user, "r1", "worker-x", now + LEASE - 1)).as("x renews").isTrue();
    assertThat(acquire(user, "r2", "worker-y", now + LEASE + 1)).as("the renewed hold is still live").isFalse();
    assertThat(acquire(user, "r2", "worker-y", now + 2 * LEASE)).as("x stopped renewing: its hold lapsed").isTrue();
    assertThat(held(user, now + 2 * LEASE)).isEqualTo(1);
  }
}
