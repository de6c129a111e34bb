package com.aichat.persistence;

import com.aichat.contract.Addresses;
import com.aichat.contract.SessionJobRequest;
import com.aichat.persistence.binding.BusAddress;
import com.aichat.persistence.binding.BusProxy;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Instant;
import java.util.List;

/**
 * What repairs the store after a crash: the replies and session jobs the sweep must deliver again, the
 * leases of a node that left, and interrupted usage-ledger increments. The interface of the
 * dispatcher's sweep, of {@code ops.NodeIdentity} (leases of an earlier name of this node) and of the
 * persistence service's ledger repair.
 *
 * <p>Ids are 24-hex strings. Failures are {@link com.aichat.contract.ServiceFailure}s carrying an
 * {@link com.aichat.contract.ErrorCode}; an unreachable database is {@code UNAVAILABLE}. Domain events are
 * published after each committed write by the persistence service layer (see {@link StoreChanges} and
 * {@link Addresses}). Served on the bus by the generic binding ({@link BusAddress}): a method's name is
 * its action, its parameters travel by name, its result by its declared type; adding an operation is
 * declaring it here and implementing it (docs/architecture.md §8).
 */
@BusAddress(Addresses.RECOVERY)
public interface Recovery {

  /** The Recovery of the store over the event bus, requests timing out after {@link BusProxy#DEFAULT_TIMEOUT_MS}. */
  static Recovery client(Vertx vertx) {
    return BusProxy.create(vertx, Recovery.class);
  }

  /**
   * Ids of replies the sweep must dispatch again, oldest first, at most {@code limit}:
   * {@code pending} ones last updated before {@code pendingBefore} whose {@code notBefore} has passed,
   * and {@code processing} ones whose lease expired before {@code now}.
   */
  Future<List<String>> findStrandedReplies(Instant now, Instant pendingBefore, int limit);

  /**
   * Ends, now, the leases of {@code processing} replies whose lease owner starts with
   * {@code ownerPrefix} (the workers of a cluster node that left: their ids start with its node id),
   * so a claim may take them at once. Each is a write conditional on the reply still being
   * {@code processing} under the same owner with its lease running, so a reply another worker claimed
   * meanwhile is untouched, and of several callers only one gets each id. The ids whose lease ended.
   */
  Future<List<String>> expireLeasesOf(String ownerPrefix);

  /**
   * Session jobs the sweep must send again, at most {@code limit} per kind: {@code pending} ones due
   * before {@code pendingBefore} (never delivered, or their worker died while waiting to retry) and
   * {@code processing} ones whose lease expired before {@code now}. One index-bounded query per kind.
   */
  Future<List<SessionJobRequest>> findStrandedSessionJobs(Instant now, Instant pendingBefore, int limit);

  /**
   * Adds to the ledger what completed replies whose ledger write was interrupted (a crash between
   * the completion and the ledger increment) still owe, for replies completed before
   * {@code completedBefore}, at most {@code limit}. Idempotent: a reply is counted once however often
   * this runs. Returns how many replies it looked at.
   */
  Future<Integer> recoverUsageLedger(Instant completedBefore, int limit);
}
