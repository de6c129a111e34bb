package com.aichat.persistence;

import com.aichat.contract.ChatMessage;
import com.aichat.contract.ChatSession;
import com.aichat.contract.SessionJobRequest;
import java.util.List;

/**
 * What the storage classes report after each committed write, as values. Storage only reads and
 * writes: it never publishes or sends on the event bus. The service layer implements this to turn
 * each change into a domain event ({@link com.aichat.contract.Addresses#EVENTS_SESSION},
 * {@link com.aichat.contract.Addresses#EVENTS_MESSAGE}) or a job hand-off (docs/architecture.md).
 *
 * <p>Calls come in commit order for one operation (a send reports its question before its reply).
 */
public interface StoreChanges {

  /** A session was created ({@code session.created}) or changed ({@code session.updated}). */
  void session(String type, ChatSession session);

  /** A session and its messages were deleted. */
  void sessionDeleted(String userId, String sessionId);

  /** A message reached a new state: {@code type} is a {@link com.aichat.contract.MessageEvent} type. */
  void message(String type, ChatMessage message);

  /** Session jobs became due (enqueued as records first, so a lost hand-off is the sweep's to redo). */
  void sessionJobsDue(List<SessionJobRequest> jobs);

  /** Reports nothing: for tools and tests that write without a running service. */
  StoreChanges NONE = new StoreChanges() {
    @Override
    public void session(String type, ChatSession session) {}

    @Override
    public void sessionDeleted(String userId, String sessionId) {}

    @Override
    public void message(String type, ChatMessage message) {}

    @Override
    public void sessionJobsDue(List<SessionJobRequest> jobs) {}
  };
}
