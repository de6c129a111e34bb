package com.aichat.persistence.service;

import com.aichat.contract.Addresses;
import com.aichat.contract.ChatMessage;
import com.aichat.contract.ChatSession;
import com.aichat.contract.MessageEvent;
import com.aichat.contract.SessionEvent;
import com.aichat.contract.SessionJobRequest;
import com.aichat.persistence.StoreChanges;
import io.vertx.core.eventbus.EventBus;
import java.util.List;

/**
 * The one place where stored changes become bus traffic: domain events are published to every
 * node's listeners (gateway rooms, workers watching their replies), due session jobs are sent to one
 * worker. Publishing is fire-and-forget: the write is already committed, and a listener that misses
 * an event reads the stored state (joins snapshot it; the sweep re-dispatches stranded work).
 */
public final class BusChanges implements StoreChanges {

  private final EventBus bus;

  public BusChanges(EventBus bus) {
    this.bus = bus;
  }

  @Override
  public void session(String type, ChatSession s) {
    bus.publish(Addresses.EVENTS_SESSION, new SessionEvent(type, s.userId(), s.id(), s).toJson());
  }

  @Override
  public void sessionDeleted(String userId, String sessionId) {
    bus.publish(Addresses.EVENTS_SESSION, new SessionEvent(SessionEvent.DELETED, userId, sessionId, null).toJson());
  }

  @Override
  public void message(String type, ChatMessage m) {
    bus.publish(Addresses.EVENTS_MESSAGE, new MessageEvent(type, m.userId(), m.sessionId(), m).toJson());
  }

  @Override
  public void sessionJobsDue(List<SessionJobRequest> jobs) {
    jobs.forEach(j -> bus.send(Addresses.SESSION_JOBS, j.toJson()));
  }
}
