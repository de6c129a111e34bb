package com.aichat.persistence.binding;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Parameter;
import java.lang.reflect.Type;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One bound method: its action (the method's name), the bus address of the interface declaring it, its
 * parameters by name and its result type. Both sides of the binding derive it from the interface.
 */
record Operation(String action, String address, Method method, String[] names, Type[] types, Type result) {

  /**
   * The abstract methods of {@code iface} (its own and inherited) by action name.
   *
   * @throws IllegalArgumentException when a method cannot be bound: it does not return a
   *     {@code Future}, it overloads another abstract one (the action would be ambiguous), its
   *     parameters have no names (compiled without {@code -parameters}), a type has no bus form
   *     ({@link BusCodec#check}), or its interface has no {@link BusAddress}
   */
  static Map<String, Operation> of(Class<?> iface) {
    if (!iface.isInterface()) {
      throw new IllegalArgumentException(iface.getName() + " is not an interface");
    }
    Map<String, Operation> ops = new LinkedHashMap<>();
    for (Method m : iface.getMethods()) {
      if (m.isDefault() || Modifier.isStatic(m.getModifiers())) {
        continue;
      }
      Operation op = of(m);
      if (ops.putIfAbsent(op.action(), op) != null) {
        throw new IllegalArgumentException(
            iface.getSimpleName() + "." + m.getName() + " is overloaded; a bound action must be unique");
      }
    }
    return Map.copyOf(ops);
  }

  private static Operation of(Method m) {
    String where = m.getDeclaringClass().getSimpleName() + "." + m.getName();
    if (m.getReturnType() != Future.class) {
      throw new IllegalArgumentException(where + " must return a Future");
    }
    Type result = BusCodec.typeArgument(m.getGenericReturnType(), 0);
    BusCodec.check(result);
    Parameter[] params = m.getParameters();
    String[] names = new String[params.length];
    Type[] types = new Type[params.length];
    for (int i = 0; i < params.length; i++) {
      if (!params[i].isNamePresent()) {
        throw new IllegalArgumentException(where + " has no parameter names: compile with -parameters");
      }
      names[i] = params[i].getName();
      types[i] = params[i].getParameterizedType();
      BusCodec.check(types[i]);
    }
    return new Operation(m.getName(), addressOf(m.getDeclaringClass()), m, names, types, result);
  }

  static String addressOf(Class<?> iface) {
    BusAddress address = iface.getAnnotation(BusAddress.class);
    if (address == null) {
      throw new IllegalArgumentException(iface.getName() + " has no @BusAddress");
    }
    return address.value();
  }

  /** The request body: each non-null argument under its parameter's name. */
  JsonObject encodeArguments(Object[] args) {
    JsonObject body = new JsonObject();
    for (int i = 0; i < names.length; i++) {
      Object v = BusCodec.encode(args[i], types[i]);
      if (v != null) {
        body.put(names[i], v);
      }
    }
    return body;
  }

  /**
   * The arguments of a request body.
   *
   * @throws IllegalArgumentException when one is malformed
   */
  Object[] decodeArguments(JsonObject body) {
    Object[] args = new Object[names.length];
    for (int i = 0; i < names.length; i++) {
      try {
        args[i] = BusCodec.decode(body.getValue(names[i]), types[i]);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("argument " + names[i] + " of " + action + ": " + e.getMessage(), e);
      }
    }
    return args;
  }
}
