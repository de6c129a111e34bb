package com.aichat.dispatch;

import com.aichat.contract.DispatchRequest;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.LongConsumer;
import java.util.function.Predicate;

/**
 * The local dispatcher's waiting replies: one FIFO per user, served round-robin across users, so a
 * user's backlog never delays another user's next reply by more than one turn of each waiting user.
 * Confined to the dispatcher's event loop.
 *
 * <p>Positions are estimates in that order: the {@code k}-th waiting reply of a user is served in round
 * {@code k}, after at most one reply of every other user per earlier round and per this round, which
 * gives {@code position = sum over j = 1..k of usersWithAtLeast(j)} (an upper bound: in its own round
 * some users come after it). The counts {@code usersWithAtLeast(j)} are kept up to date on every change,
 * so a position costs O(k) and no scan of the queue.
 */
final class FairQueue {

  /** The queue key of replies whose user the dispatcher was not told (recovery sweep). */
  static final String UNKNOWN_USER = "";

  /** One waiting reply; {@code announced} once its {@code message.queued} event went out. */
  static final class Entry {
    final DispatchRequest request;
    boolean announced;

    Entry(DispatchRequest request) {
      this.request = request;
    }

    String messageId() {
      return request.messageId();
    }

    String user() {
      return userOf(request);
    }
  }

  private final Map<String, ArrayDeque<Entry>> byUser = new HashMap<>();
  /** Users with waiting replies, in serving order (head = next). */
  private final ArrayDeque<String> ring = new ArrayDeque<>();
  private final Set<String> ids = new HashSet<>();
  /** {@code atLeast[j]}: users with at least {@code j} waiting replies (index 0 unused). */
  private int[] atLeast = new int[16];
  private int size;
  /** Told every change of {@link #size()} (+1, -1, or minus the size on clear): the pending-replies gauge. */
  private final LongConsumer sizeChanged;

  FairQueue() {
    this(delta -> {});
  }

  FairQueue(LongConsumer sizeChanged) {
    this.sizeChanged = sizeChanged;
  }

  static String userOf(DispatchRequest r) {
    return r.userId() == null ? UNKNOWN_USER : r.userId();
  }

  int size() {
    return size;
  }

  boolean isEmpty() {
    return size == 0;
  }

  /** Users with at least one waiting reply. */
  int users() {
    return ring.size();
  }

  boolean contains(String messageId) {
    return ids.contains(messageId);
  }

  /** Waiting replies of {@code user}. */
  int length(String user) {
    ArrayDeque<Entry> q = byUser.get(user);
    return q == null ? 0 : q.size();
  }

  /** Appends a reply to its user's queue (it must not be queued already); answers its position. */
  int add(Entry e) {
    ArrayDeque<Entry> q = byUser.get(e.user());
    if (q == null) {
      q = new ArrayDeque<>();
      byUser.put(e.user(), q);
      ring.addLast(e.user());
    }
    q.addLast(e);
    ids.add(e.messageId());
    size++;
    sizeChanged.accept(1);
    grew(q.size());
    return prefix(q.size());
  }

  /**
   * Takes the next reply in round-robin order, skipping users for which {@code skip} holds (they keep
   * their place); null when every waiting user is skipped or nothing waits.
   */
  Entry poll(Predicate<String> skip) {
    for (Iterator<String> it = ring.iterator(); it.hasNext(); ) {
      String user = it.next();
      if (skip.test(user)) {
        continue;
      }
      it.remove();
      ArrayDeque<Entry> q = byUser.get(user);
      Entry e = q.pollFirst();
      shrank(q.size() + 1);
      if (q.isEmpty()) {
        byUser.remove(user);
      } else {
        ring.addLast(user);
      }
      ids.remove(e.messageId());
      size--;
      sizeChanged.accept(-1);
      return e;
    }
    return null;
  }

  /** The reply {@link #poll} would take, left in place; null when none. */
  Entry peek(Predicate<String> skip) {
    for (String user : ring) {
      if (!skip.test(user)) {
        return byUser.get(user).peekFirst();
      }
    }
    return null;
  }

  /** Takes a given reply out of the queue (a probe that a worker accepted); false when not queued. */
  boolean remove(Entry e) {
    ArrayDeque<Entry> q = byUser.get(e.user());
    if (q == null || !ids.contains(e.messageId())) {
      return false;
    }
    int len = q.size();
    if (!q.remove(e)) {
      return false;
    }
    shrank(len);
    if (q.isEmpty()) {
      byUser.remove(e.user());
      ring.remove(e.user());
    }
    ids.remove(e.messageId());
    size--;
    sizeChanged.accept(-1);
    return true;
  }

  /** Puts back a reply that a worker refused: first of its user, and its user first in the ring. */
  void pushFront(Entry e) {
    ArrayDeque<Entry> q = byUser.get(e.user());
    if (q == null) {
      q = new ArrayDeque<>();
      byUser.put(e.user(), q);
    } else {
      ring.remove(e.user());
    }
    ring.addFirst(e.user());
    q.addFirst(e);
    ids.add(e.messageId());
    size++;
    sizeChanged.accept(1);
    grew(q.size());
  }

  /** The position the next reply of {@code user} would get. */
  int nextPosition(String user) {
    int k = length(user) + 1;
    return prefix(k - 1) + (k < atLeast.length ? atLeast[k] : 0) + 1;
  }

  /**
   * {@code sums[k] = usersWithAtLeast(1) + ... + usersWithAtLeast(k)}, for {@link #nextPosition(int, int[])}
   * over many users without recounting.
   */
  int[] prefixSums() {
    int[] sums = new int[atLeast.length + 1];
    for (int j = 1; j < atLeast.length; j++) {
      sums[j] = sums[j - 1] + atLeast[j];
    }
    sums[atLeast.length] = sums[atLeast.length - 1];
    return sums;
  }

  /** {@link #nextPosition(String)} of a user with {@code length} waiting replies, from {@link #prefixSums()}. */
  static int nextPosition(int length, int[] sums) {
    int k = Math.min(length + 1, sums.length - 1);
    return sums[k] + 1;
  }

  /** Calls {@code action} with every waiting user and the number of its waiting replies. */
  void forEachUser(BiConsumer<String, Integer> action) {
    byUser.forEach((u, q) -> action.accept(u, q.size()));
  }

  /** Empties the queue. */
  void clear() {
    byUser.clear();
    ring.clear();
    ids.clear();
    Arrays.fill(atLeast, 0);
    sizeChanged.accept(-size);
    size = 0;
  }

  private int prefix(int k) {
    int sum = 0;
    for (int j = 1; j <= k && j < atLeast.length; j++) {
      sum += atLeast[j];
    }
    return sum;
  }

  /** A user's queue grew to {@code len}. */
  private void grew(int len) {
    if (len >= atLeast.length) {
      atLeast = Arrays.copyOf(atLeast, Math.max(len + 1, atLeast.length * 2));
    }
    atLeast[len]++;
  }

  /** A user's queue shrank from {@code len}. */
  private void shrank(int len) {
    atLeast[len]--;
  }
}
