package com.aichat.persistence.binding;

import com.aichat.contract.Addresses;
import com.aichat.contract.ErrorCode;
import com.aichat.contract.Ids;
import com.aichat.contract.ServiceFailure;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.lang.reflect.InvocationTargetException;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server side of a binding: serves one implementation of a bound interface on the interface's
 * {@link BusAddress}. It calls the method named by the {@link Addresses#ACTION_HEADER} with the
 * arguments decoded from the request body by parameter name ({@link BusCodec}), and replies with the
 * JSON form of the result or fails with the {@link ErrorCode} failure code:
 * <ul>
 *   <li>an unknown action, or a malformed argument (wrong type, bad date, unknown enum constant):
 *       {@code VALIDATION_FAILED}, and the implementation is not called;
 *   <li>a {@link ServiceFailure}: its own code and safe message;
 *   <li>anything else: logged here, and {@code INTERNAL} with no driver text. (An
 *       {@link IllegalArgumentException} the implementation throws before it returns a future is a
 *       malformed request: {@code VALIDATION_FAILED}.)
 * </ul>
 * {@link BusProxy} is the other side.
 */
public final class BusService<T> implements Handler<Message<Object>> {

  private static final Logger log = LoggerFactory.getLogger(BusService.class);

  /**
   * The arguments that hold ObjectIds. They are lower-cased here, at the bus boundary of the id rule
   * ({@link Ids}): a caller on another node may send an id in upper case; the store, its events and
   * the gateway's rooms all use the lower-case form.
   */
  static final List<String> ID_ARGUMENTS =
      List.of("userId", "sessionId", "messageId", "teamId", "beforeId", "afterId");

  private final String name;
  private final T implementation;
  private final Map<String, Operation> operations;

  /** @throws IllegalArgumentException when {@code iface} cannot be bound (see {@link Operation#of}) */
  public BusService(Class<T> iface, T implementation) {
    this.name = iface.getSimpleName();
    this.implementation = implementation;
    this.operations = Operation.of(iface);
  }

  /** Serves {@code implementation} on the {@link BusAddress} of {@code iface}; the consumer registered. */
  public static <T> MessageConsumer<Object> serve(Vertx vertx, Class<T> iface, T implementation) {
    BusService<T> service = new BusService<>(iface, implementation);
    return vertx.eventBus().consumer(Operation.addressOf(iface), service);
  }

  @Override
  public void handle(Message<Object> msg) {
    String action = msg.headers().get(Addresses.ACTION_HEADER);
    Operation op = action == null ? null : operations.get(action);
    if (op == null) {
      reject(msg, "unknown " + name + " action: " + action);
      return;
    }
    Object[] args;
    try {
      JsonObject body = msg.body() == null ? new JsonObject() : (JsonObject) msg.body();
      args = op.decodeArguments(normalizeIds(body));
    } catch (ClassCastException | IllegalArgumentException e) {
      log.debug("malformed {} request {}: {}", name, action, e.getMessage());
      reject(msg, "malformed " + name + " request");
      return;
    }
    call(op, args).onComplete(ar -> {
      if (ar.failed()) {
        fail(msg, action, ar.cause());
        return;
      }
      Object reply;
      try {
        reply = BusCodec.encode(ar.result(), op.result());
      } catch (RuntimeException e) {
        fail(msg, action, e);
        return;
      }
      msg.reply(reply);
    });
  }

  private Future<?> call(Operation op, Object[] args) {
    try {
      Future<?> result = (Future<?>) op.method().invoke(implementation, args);
      return result == null ? Future.failedFuture(new IllegalStateException(op.action() + " returned null")) : result;
    } catch (InvocationTargetException e) {
      Throwable cause = e.getCause();
      return Future.failedFuture(cause instanceof IllegalArgumentException
          ? ErrorCode.VALIDATION_FAILED.failure("malformed " + name + " request")
          : cause);
    } catch (IllegalAccessException e) {
      return Future.failedFuture(e);
    }
  }

  /** The body with the {@link #ID_ARGUMENTS} that are ObjectIds in lower case (a copy when any changed). */
  static JsonObject normalizeIds(JsonObject body) {
    JsonObject a = body;
    for (String field : ID_ARGUMENTS) {
      if (a.getValue(field) instanceof String s && Ids.isObjectId(s) && !s.equals(Ids.lowerIfId(s))) {
        a = a == body ? body.copy() : a;
        a.put(field, Ids.lowerIfId(s));
      }
    }
    return a;
  }

  private static void reject(Message<Object> msg, String message) {
    msg.fail(ErrorCode.VALIDATION_FAILED.failureCode(), message);
  }

  private void fail(Message<Object> msg, String action, Throwable err) {
    if (err instanceof ServiceFailure sf) {
      msg.fail(sf.failureCode(), sf.getMessage());
      return;
    }
    log.error("{} action {} failed unexpectedly", name, action, err);
    msg.fail(ErrorCode.INTERNAL.failureCode(), "internal error");
  }
}
