package com.aichat.api;

import com.aichat.contract.ChatMessage;
import com.aichat.contract.ChatSession;
import com.aichat.contract.ErrorCode;
import com.aichat.contract.Page;
import com.aichat.persistence.Conversations;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /chats/:sessionId/export}: the whole session, streamed. The session is read first (404
 * before anything is written); then the response is chunked and the messages are read page by page
 * ({@code export.page_size}, over the bus with the listing's cursor) and written as they arrive.
 *
 * <p>Backpressure (issue 24 finding 1): a page is read only once the page before it has been taken by
 * the connection, that is once its write has completed (the bytes reached the socket) and the write
 * queue is below the high-water mark ({@code drainHandler}). One page is read ahead while the previous
 * one is written, so a client that stops reading holds at most two pages in this process (the one its
 * socket does not take, and the next), whatever the session's length. Waiting for the write queue
 * alone was not enough: the queue counts only what the socket has not yet accepted, so pages kept
 * being read while a stalled client's kernel buffers filled, and in practice the whole session was
 * read and buffered. A failure after the headers were sent resets the connection, so a client never
 * takes a truncated export for a whole one.
 *
 * <p>Each message is rendered as {@code GET /chats/:id/messages} renders it ({@link ChatMessage#toJson},
 * versions included): the store's bookkeeping ({@code controlRequestIds}, {@code versionStartedAt},
 * leases, slots, idempotency keys) is never exported (issue 24 finding 10).
 */
final class SessionExport {

  private static final Logger log = LoggerFactory.getLogger(SessionExport.class);

  /**
   * Pages read from the store and not yet taken by their connection, over all exports of this process
   * (counted from the read's start to its write's completion): what exports hold in memory, in pages.
   */
  private static final AtomicLong PAGES_IN_MEMORY = new AtomicLong();

  /** {@link #PAGES_IN_MEMORY}, for the tests and for anyone debugging the heap. */
  static long pagesInMemory() {
    return PAGES_IN_MEMORY.get();
  }

  /** The export formats, by their {@code format} parameter. */
  enum Format {
    JSON("json", "application/json; charset=utf-8"),
    MARKDOWN("md", "text/markdown; charset=utf-8");

    final String extension;
    final String contentType;

    Format(String extension, String contentType) {
      this.extension = extension;
      this.contentType = contentType;
    }

    /** {@code json} (also the default) or {@code markdown}; anything else is 400 INVALID_EXPORT_FORMAT. */
    static Format of(String param) {
      if (param == null || param.equals("json")) {
        return JSON;
      }
      if (param.equals("markdown")) {
        return MARKDOWN;
      }
      throw ApiError.of(ErrorCode.INVALID_EXPORT_FORMAT, "format must be json or markdown")
          .withDetails(new JsonObject().put("field", "format").put("allowed", new JsonArray().add("json").add("markdown")));
    }
  }

  private final Conversations store;
  private final String userId;
  private final String sessionId;
  private final Format format;
  private final int pageSize;
  private final HttpServerResponse response;
  private long messages;
  private long aiErrors;
  private long pagesRead;

  private SessionExport(RoutingContext ctx, Conversations store, String userId, String sessionId, Format format,
      int pageSize) {
    this.store = store;
    this.userId = userId;
    this.sessionId = sessionId;
    this.format = format;
    this.pageSize = pageSize;
    this.response = ctx.response();
  }

  static void handle(RoutingContext ctx, Conversations store, int pageSize) {
    String sessionId = Params.pathId(ctx, "sessionId", "session");
    Format format = Format.of(Params.single(ctx, "format"));
    String userId = AuthHandler.user(ctx).userId();
    SessionExport export = new SessionExport(ctx, store, userId, sessionId, format, pageSize);
    store.getSession(userId, sessionId)
        .onFailure(ctx::fail)
        .onSuccess(session -> export.stream(session)
            .onFailure(err -> export.abort(err)));
  }

  private Future<Void> stream(ChatSession session) {
    Instant exportedAt = Instant.now();
    response.setStatusCode(200)
        .setChunked(true)
        .putHeader(HttpHeaders.CONTENT_TYPE, format.contentType)
        .putHeader("Content-Disposition", "attachment; filename=\"chat-" + session.id() + "." + format.extension + "\"")
        .putHeader("Cache-Control", "no-store")
        .putHeader("X-Content-Type-Options", "nosniff");
    return write(format == Format.JSON ? jsonHead(session, exportedAt) : markdownHead(session, exportedAt))
        .compose(v -> pages(null))
        .compose(v -> write(format == Format.JSON ? jsonTail() : markdownTail()))
        .compose(v -> response.end());
  }

  /** Reads and writes the page after {@code cursor}, then the next ones, until the last. */
  private Future<Void> pages(String cursor) {
    return read(cursor).compose(this::pump);
  }

  /**
   * Writes {@code page} and, meanwhile, reads the next one; that one is written (and the one after it
   * read) only once this write has been taken by the connection.
   */
  private Future<Void> pump(Page<JsonObject> page) {
    Future<Void> written = write(render(page)).onComplete(ar -> PAGES_IN_MEMORY.decrementAndGet());
    if (page.nextCursor() == null) {
      return written;
    }
    Future<Page<JsonObject>> next = read(page.nextCursor());
    // a page read ahead for a write that then failed is dropped
    written.onFailure(err -> next.onSuccess(dropped -> PAGES_IN_MEMORY.decrementAndGet()));
    return written.compose(v -> next).compose(this::pump);
  }

  private Future<Page<JsonObject>> read(String cursor) {
    if (response.closed()) {
      return Future.failedFuture(new IllegalStateException("client went away"));
    }
    pagesRead++;
    PAGES_IN_MEMORY.incrementAndGet();
    return store.listMessageDocuments(userId, sessionId, cursor, pageSize)
        .onFailure(err -> PAGES_IN_MEMORY.decrementAndGet());
  }

  private Buffer render(Page<JsonObject> page) {
    Buffer out = Buffer.buffer();
    for (JsonObject doc : page.items()) {
      JsonObject m = ChatMessage.fromJson(doc).toJson();
      boolean error = "ai_error".equals(m.getString("messageType"));
      if (error) {
        aiErrors++;
      }
      messages++;
      if (format == Format.JSON) {
        out.appendString(messages == 1 ? "\n" : ",\n").appendString(m.encode());
      } else {
        out.appendString(ExportMarkdown.message(messages, m));
      }
    }
    return out;
  }

  /**
   * Writes, then waits until the connection has taken the data (the write completed) and can take
   * more (its queue drained below the high-water mark): backpressure on the store reads.
   */
  private Future<Void> write(Buffer data) {
    if (response.closed()) {
      return Future.failedFuture(new IllegalStateException("client went away"));
    }
    Future<Void> taken = data.length() > 0 ? response.write(data) : Future.succeededFuture();
    return taken.compose(v -> drained());
  }

  private Future<Void> drained() {
    if (response.closed()) {
      return Future.failedFuture(new IllegalStateException("client went away"));
    }
    if (!response.writeQueueFull()) {
      return Future.succeededFuture();
    }
    Promise<Void> drained = Promise.promise();
    response.drainHandler(v -> drained.tryComplete());
    response.closeHandler(v -> drained.tryFail("client went away"));
    return drained.future();
  }

  private Buffer jsonHead(ChatSession session, Instant exportedAt) {
    return Buffer.buffer("{\"format\":\"chat-service.export.v1\",\"exportedAt\":\"" + exportedAt
        + "\",\"session\":" + session.toJson().encode() + ",\"messages\":[");
  }

  private Buffer jsonTail() {
    return Buffer.buffer((messages == 0 ? "" : "\n") + "],\"counts\":"
        + new JsonObject().put("messages", messages).put("aiErrors", aiErrors).encode() + "}\n");
  }

  private Buffer markdownHead(ChatSession session, Instant exportedAt) {
    return Buffer.buffer(ExportMarkdown.head(session, exportedAt));
  }

  private Buffer markdownTail() {
    return Buffer.buffer(ExportMarkdown.tail(messages, aiErrors));
  }

  private void abort(Throwable err) {
    ErrorCode code = ErrorCode.fromThrowable(err);
    if (response.closed()) {
      log.info("export of session {}: the client went away after {} messages ({} pages read)", sessionId, messages,
          pagesRead);
    } else {
      log.warn("export of session {} failed after {} messages ({}); connection reset", sessionId, messages,
          code == ErrorCode.INTERNAL ? err.toString() : code.name());
      response.reset();
    }
  }
}
