package com.aichat.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.contract.DispatchRequest;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("The dispatcher's fair queue: round-robin across users, positions without a scan")
class FairQueueTest {

  private static FairQueue.Entry job(String user, String id) {
    return new FairQueue.Entry(new DispatchRequest(id, user, "s-" + user));
  }

  private static List<String> drain(FairQueue q) {
    List<String> order = new ArrayList<>();
    for (FairQueue.Entry e = q.poll(u -> false); e != null; e = q.poll(u -> false)) {
      order.add(e.messageId());
    }
    return order;
  }

  @Test
  @DisplayName("a backlog of one user is served alternately with other users, each user's replies in order")
  void roundRobinAcrossUsers() {
    FairQueue q = new FairQueue();
    for (int i = 1; i <= 4; i++) {
      q.add(job("a", "a" + i));
    }
    q.add(job("b", "b1"));
    q.add(job("c", "c1"));
    q.add(job("b", "b2"));
    assertThat(q.size()).isEqualTo(7);
    assertThat(q.users()).isEqualTo(3);
    assertThat(drain(q)).containsExactly("a1", "b1", "c1", "a2", "b2", "a3", "a4");
    assertThat(q.isEmpty()).isTrue();
    assertThat(q.users()).isZero();
  }

  @Test
  @DisplayName("positions follow the serving order: a newcomer's first reply is placed after one reply of each waiting user")
  void positionsMatchTheServingOrder() {
    FairQueue q = new FairQueue();
    assertThat(q.add(job("a", "a1"))).isEqualTo(1);
    assertThat(q.add(job("a", "a2"))).isEqualTo(2);
    assertThat(q.add(job("a", "a3"))).isEqualTo(3);
    assertThat(q.nextPosition("b")).isEqualTo(2);
    assertThat(q.add(job("b", "b1"))).isEqualTo(2);
    assertThat(q.nextPosition("a")).isEqualTo(5);
    assertThat(q.nextPosition("c")).isEqualTo(3);
    int[] sums = q.prefixSums();
    assertThat(FairQueue.nextPosition(q.length("a"), sums)).isEqualTo(5);
    assertThat(FairQueue.nextPosition(q.length("b"), sums)).isEqualTo(4);
    assertThat(FairQueue.nextPosition(0, sums)).isEqualTo(3);
    assertThat(drain(q)).containsExactly("a1", "b1", "a2", "a3");
  }

  @Test
  @DisplayName("a refused reply put back keeps its turn; skipped users keep their place; removal and dedupe by id")
  void pushFrontSkipAndRemove() {
    FairQueue q = new FairQueue();
    q.add(job("a", "a1"));
    q.add(job("a", "a2"));
    q.add(job("b", "b1"));
    FairQueue.Entry first = q.poll(u -> false);
    assertThat(first.messageId()).isEqualTo("a1");
    assertThat(q.contains("a1")).isFalse();
    q.pushFront(first);
    assertThat(q.contains("a1")).isTrue();
    assertThat(q.poll(u -> u.equals("a")).messageId()).isEqualTo("b1");
    assertThat(q.peek(u -> false).messageId()).isEqualTo("a1");
    assertThat(q.remove(q.peek(u -> false))).isTrue();
    assertThat(q.contains("a1")).isFalse();
    assertThat(q.length("a")).isEqualTo(1);
    assertThat(q.nextPosition("b")).isEqualTo(2);
    assertThat(drain(q)).containsExactly("a2");
  }

  @Test
  @DisplayName("replies without a known user share one queue key and are served in turn with the users")
  void unknownUsersShareOneTurn() {
    FairQueue q = new FairQueue();
    q.add(new FairQueue.Entry(new DispatchRequest("x1", null, null)));
    q.add(new FairQueue.Entry(new DispatchRequest("x2", null, null)));
    q.add(job("a", "a1"));
    assertThat(q.length(FairQueue.UNKNOWN_USER)).isEqualTo(2);
    assertThat(drain(q)).containsExactly("x1", "a1", "x2");
  }
}
