package com.aichat.persistence.impl;

import com.aichat.contract.ErrorCode;
import com.aichat.contract.ServiceFailure;
import com.mongodb.MongoBulkWriteException;
import com.mongodb.MongoClientException;
import com.mongodb.MongoConnectionPoolClearedException;
import com.mongodb.MongoException;
import com.mongodb.MongoExecutionTimeoutException;
import com.mongodb.MongoInterruptedException;
import com.mongodb.MongoNodeIsRecoveringException;
import com.mongodb.MongoNotPrimaryException;
import com.mongodb.MongoSecurityException;
import com.mongodb.MongoSocketException;
import com.mongodb.MongoTimeoutException;
import com.mongodb.MongoWriteConcernException;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Classifies driver failures by type and server error code (never by message text) into the service's
 * {@link ErrorCode}s. Driver text never leaves this class except in the server log.
 */
final class MongoFailures {

  private static final Logger log = LoggerFactory.getLogger(MongoFailures.class);

  /** MongoDB's duplicate-key error code (E11000). */
  static final int DUPLICATE_KEY = 11000;

  private MongoFailures() {}

  /** True when {@code err} is a duplicate-key violation of a unique index. */
  static boolean isDuplicateKey(Throwable err) {
    if (err instanceof MongoBulkWriteException bulk) {
      return bulk.getWriteErrors().stream().anyMatch(e -> e.getCode() == DUPLICATE_KEY);
    }
    return err instanceof MongoException me && me.getCode() == DUPLICATE_KEY;
  }

  /** True when the database could not be reached or is not able to serve right now. */
  static boolean isUnavailable(Throwable err) {
    return err instanceof MongoTimeoutException
        || err instanceof MongoSocketException
        || err instanceof MongoNotPrimaryException
        || err instanceof MongoNodeIsRecoveringException
        || err instanceof MongoConnectionPoolClearedException
        || err instanceof MongoInterruptedException
        || err instanceof MongoExecutionTimeoutException
        || err instanceof MongoWriteConcernException
        || err instanceof MongoSecurityException
        || (err instanceof MongoClientException && err.getCause() instanceof MongoSocketException);
  }

  /** A failed future with the classified {@link ServiceFailure}; logs what is not expected. */
  static <T> Future<T> classify(String operation, Throwable err) {
    if (err instanceof ServiceFailure) {
      return Future.failedFuture(err);
    }
    if (isUnavailable(err)) {
      log.warn("{}: database unavailable ({})", operation, err.getClass().getSimpleName());
      return Future.failedFuture(ErrorCode.UNAVAILABLE.failure("database unavailable"));
    }
    log.error("{} failed", operation, err);
    return Future.failedFuture(ErrorCode.INTERNAL.failure("internal error"));
  }
}
