package com.aichat.persistence.binding;

import com.aichat.contract.Addresses;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.HashMap;
import java.util.Map;

/**
 * The client side of a binding: an implementation of a bound interface, made with
 * {@link java.lang.reflect.Proxy}, whose every abstract method is one event-bus request. The request
 * goes to the {@link BusAddress} of the interface declaring the method, with the
 * {@link Addresses#ACTION_HEADER} set to the method's name and the arguments as a JSON object by
 * parameter name ({@link BusCodec}); the reply is decoded by the method's {@code Future<T>} type. A
 * failure reply reaches the caller as the bus delivered it (a {@code ReplyException} carrying the
 * {@link com.aichat.contract.ErrorCode} failure code). Default methods run here, on the proxy, and call
 * the abstract ones. {@link BusService} is the other side.
 */
public final class BusProxy implements InvocationHandler {

  /** Bus timeout of one request; the store answers quickly or fails UNAVAILABLE. */
  public static final long DEFAULT_TIMEOUT_MS = 15_000;

  private final Vertx vertx;
  private final String name;
  private final long timeoutMs;
  private final Map<Method, Operation> operations = new HashMap<>();

  private BusProxy(Vertx vertx, Class<?> iface, long timeoutMs) {
    this.vertx = vertx;
    this.name = iface.getSimpleName();
    this.timeoutMs = timeoutMs;
    Operation.of(iface).values().forEach(op -> operations.put(op.method(), op));
  }

  /** A client of {@code iface} with {@link #DEFAULT_TIMEOUT_MS}. */
  public static <T> T create(Vertx vertx, Class<T> iface) {
    return create(vertx, iface, DEFAULT_TIMEOUT_MS);
  }

  /**
   * A client of {@code iface} whose requests time out after {@code timeoutMs}. {@code iface} may extend
   * several bound interfaces: each method goes to the address of the one declaring it.
   *
   * @throws IllegalArgumentException when {@code iface} cannot be bound (see {@link Operation#of})
   */
  public static <T> T create(Vertx vertx, Class<T> iface, long timeoutMs) {
    return iface.cast(Proxy.newProxyInstance(
        iface.getClassLoader(), new Class<?>[] {iface}, new BusProxy(vertx, iface, timeoutMs)));
  }

  @Override
  public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
    if (method.getDeclaringClass() == Object.class) {
      return switch (method.getName()) {
        case "equals" -> proxy == args[0];
        case "hashCode" -> System.identityHashCode(proxy);
        default -> "BusProxy[" + name + "]";
      };
    }
    if (method.isDefault()) {
      return InvocationHandler.invokeDefault(proxy, method, args);
    }
    Operation op = operations.get(method);
    if (op == null) {
      throw new UnsupportedOperationException(method.toString());
    }
    return request(op, args == null ? new Object[0] : args);
  }

  private Future<Object> request(Operation op, Object[] args) {
    DeliveryOptions options =
        new DeliveryOptions().addHeader(Addresses.ACTION_HEADER, op.action()).setSendTimeout(timeoutMs);
    Object body;
    try {
      body = op.encodeArguments(args);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    return vertx.eventBus()
        .request(op.address(), body, options)
        .map(reply -> BusCodec.decode(reply.body(), op.result()));
  }
}
