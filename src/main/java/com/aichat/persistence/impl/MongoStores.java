package com.aichat.persistence.impl;

import com.aichat.contract.SessionJobKind;
import com.aichat.persistence.StoreChanges;
import io.vertx.core.Vertx;
import io.vertx.ext.mongo.MongoClient;
import java.time.Clock;
import java.util.EnumSet;
import java.util.Set;

/**
 * The store on one {@link MongoClient}, one implementation per interface of the split contract
 * (docs/architecture.md §2), sharing the usage ledger and the session-job writes a completion makes.
 */
public record MongoStores(
    MongoChatStore conversations, MongoGenerationStore generations, MongoSessionJobStore jobs,
    MongoRecovery recovery) {

  /** Reporting nothing, with every session job kind (for tools and tests writing without a service). */
  public static MongoStores create(Vertx vertx, MongoClient mongo, Clock clock) {
    return create(vertx, mongo, clock, EnumSet.allOf(SessionJobKind.class), StoreChanges.NONE);
  }

  /**
   * @param autoJobs the session job kinds the store enqueues itself when a reply completes (e.g.
   *     {@code title} unless {@code titles.enabled} is false)
   * @param changes where committed changes are reported (the service layer publishes them)
   */
  public static MongoStores create(
      Vertx vertx, MongoClient mongo, Clock clock, Set<SessionJobKind> autoJobs, StoreChanges changes) {
    MongoUsageLedger ledger = new MongoUsageLedger(vertx, mongo, clock);
    MongoSessionJobStore jobs = new MongoSessionJobStore(vertx, mongo, clock, autoJobs, changes);
    MongoGenerationStore generations = new MongoGenerationStore(vertx, mongo, clock, ledger, jobs, changes);
    return new MongoStores(
        new MongoChatStore(vertx, mongo, clock, ledger, generations, changes),
        generations,
        jobs,
        new MongoRecovery(vertx, mongo, clock, ledger, changes));
  }
}
