package com.aichat.persistence.binding;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Sample values of the types a bound interface uses, built from the types themselves (every component
 * of a record filled, recursively), so a codec test covers a type as soon as an interface uses it.
 */
final class Samples {

  private static final Instant AT = Instant.parse("2024-05-06T07:08:09.123456Z");

  private Samples() {}

  /** Every parameter type and {@code Future} result type of the abstract methods of {@code iface}. */
  static Set<Type> typesOf(Class<?> iface) {
    Set<Type> types = new LinkedHashSet<>();
    for (Method m : iface.getMethods()) {
      if (m.isDefault() || Modifier.isStatic(m.getModifiers()) || m.getReturnType() != Future.class) {
        continue;
      }
      types.add(((ParameterizedType) m.getGenericReturnType()).getActualTypeArguments()[0]);
      types.addAll(List.of(m.getGenericParameterTypes()));
    }
    return types;
  }

  /** A value of {@code type} with every field set (null only for {@code Void}). */
  static Object of(Type type) {
    return of(type, Map.of());
  }

  private static Object of(Type type, Map<TypeVariable<?>, Type> vars) {
    if (type instanceof TypeVariable<?> v) {
      return of(vars.get(v), Map.of());
    }
    Class<?> raw = BusCodec.raw(type);
    if (raw == String.class) {
      return "Text \"quoted\" ✓";
    }
    if (raw == boolean.class || raw == Boolean.class) {
      return true;
    }
    if (raw == int.class || raw == Integer.class) {
      return 7;
    }
    if (raw == long.class || raw == Long.class) {
      return 5_000_000_000L;
    }
    if (raw == double.class || raw == Double.class) {
      return 1.5;
    }
    if (raw == Void.class) {
      return null;
    }
    if (raw == Instant.class) {
      return AT;
    }
    if (raw.isEnum()) {
      Object[] constants = raw.getEnumConstants();
      return constants[constants.length - 1];
    }
    if (raw == JsonObject.class) {
      return new JsonObject().put("k", "v").put("n", 3).put("nested", new JsonObject().put("a", new JsonArray().add(1)));
    }
    if (raw == JsonArray.class) {
      return new JsonArray().add("x").add(2).add(new JsonObject().put("y", true));
    }
    if (raw == int[].class) {
      return new int[] {2, 5};
    }
    if (raw == List.class) {
      Type element = ((ParameterizedType) type).getActualTypeArguments()[0];
      List<Object> list = new ArrayList<>();
      list.add(of(element, vars));
      list.add(of(element, vars));
      return list;
    }
    if (raw.isRecord()) {
      Map<TypeVariable<?>, Type> own = new HashMap<>();
      TypeVariable<?>[] params = raw.getTypeParameters();
      for (int i = 0; i < params.length; i++) {
        Type arg = ((ParameterizedType) type).getActualTypeArguments()[i];
        own.put(params[i], arg instanceof TypeVariable<?> v ? vars.get(v) : arg);
      }
      RecordComponent[] components = raw.getRecordComponents();
      Object[] args = new Object[components.length];
      Class<?>[] types = new Class<?>[components.length];
      for (int i = 0; i < components.length; i++) {
        args[i] = of(components[i].getGenericType(), own);
        types[i] = components[i].getType();
      }
      try {
        Constructor<?> c = raw.getDeclaredConstructor(types);
        c.setAccessible(true);
        return c.newInstance(args);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException("cannot build a sample " + raw.getName(), e);
      }
    }
    throw new IllegalArgumentException("no sample for " + type);
  }
}
