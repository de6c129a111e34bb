package com.aichat.persistence.binding;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.lang.reflect.Constructor;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON form of the values a bound interface passes and returns, chosen by their declared (generic)
 * type, never by their runtime class. A value encodes to what the event bus carries as is: a
 * {@code String}, {@code Number}, {@code Boolean}, {@link JsonObject}, {@link JsonArray} or null.
 *
 * <table>
 *   <tr><th>Declared type</th><th>JSON</th></tr>
 *   <tr><td>{@code String}, {@code boolean}, {@code int}, {@code long}, {@code double} (and boxed)</td>
 *       <td>itself</td></tr>
 *   <tr><td>{@link Instant}</td><td>ISO-8601 string</td></tr>
 *   <tr><td>an enum</td><td>its {@code name()}</td></tr>
 *   <tr><td>{@link JsonObject}, {@link JsonArray}</td><td>itself</td></tr>
 *   <tr><td>a class with {@code JsonObject toJson()} and {@code static fromJson(JsonObject)}</td>
 *       <td>its own form (e.g. {@code ChatMessage}, {@code ChatSession}, {@code SendResult})</td></tr>
 *   <tr><td>any other record</td><td>an object of its components, each by its own declared type
 *       (type variables resolved, e.g. {@code Page<ChatSession>})</td></tr>
 *   <tr><td>{@code List<T>}</td><td>an array of {@code T}</td></tr>
 *   <tr><td>{@code Void}</td><td>null</td></tr>
 * </table>
 *
 * <p>Null encodes to null and decodes to null, except for a primitive, where it is malformed. A value
 * that does not have the declared type's JSON form fails {@link #decode} with an
 * {@link IllegalArgumentException}; {@link #check} refuses a type outside the table, so a binding fails
 * when it is made rather than on its first call.
 */
public final class BusCodec {

  private BusCodec() {}

  /** The JSON form of {@code value} as a {@code type}. */
  public static Object encode(Object value, Type type) {
    if (value == null) {
      return null;
    }
    Class<?> raw = raw(type);
    if (isScalar(raw) || raw == JsonObject.class || raw == JsonArray.class) {
      return value;
    }
    if (raw == Instant.class) {
      return value.toString();
    }
    if (raw.isEnum()) {
      return ((Enum<?>) value).name();
    }
    if (raw == List.class) {
      Type element = typeArgument(type, 0);
      JsonArray arr = new JsonArray();
      for (Object item : (List<?>) value) {
        arr.add(encode(item, element));
      }
      return arr;
    }
    Shape shape = SHAPES.get(raw);
    if (shape.toJson != null) {
      return invoke(shape.toJson, value);
    }
    JsonObject o = new JsonObject();
    Map<TypeVariable<?>, Type> bindings = bindings(type, raw);
    for (RecordComponent c : shape.components) {
      Object v = encode(invoke(c.getAccessor(), value), resolve(c.getGenericType(), bindings));
      if (v != null) {
        o.put(c.getName(), v);
      }
    }
    return o;
  }

  /**
   * The {@code type} value that {@code json} is the form of.
   *
   * @throws IllegalArgumentException when {@code json} is not of that form
   */
  public static Object decode(Object json, Type type) {
    Class<?> raw = raw(type);
    if (json == null) {
      if (raw.isPrimitive()) {
        throw new IllegalArgumentException("a " + raw + " is missing");
      }
      return null;
    }
    if (raw == String.class) {
      return as(json, String.class, type);
    }
    if (raw == boolean.class || raw == Boolean.class) {
      return as(json, Boolean.class, type);
    }
    if (raw == int.class || raw == Integer.class) {
      return as(json, Number.class, type).intValue();
    }
    if (raw == long.class || raw == Long.class) {
      return as(json, Number.class, type).longValue();
    }
    if (raw == double.class || raw == Double.class) {
      return as(json, Number.class, type).doubleValue();
    }
    if (raw == Void.class) {
      return null;
    }
    if (raw == JsonObject.class || raw == JsonArray.class) {
      return as(json, raw, type);
    }
    if (raw == Instant.class) {
      try {
        return Instant.parse(as(json, String.class, type));
      } catch (DateTimeException e) {
        throw new IllegalArgumentException("not an ISO-8601 instant: " + json, e);
      }
    }
    if (raw.isEnum()) {
      return enumConstant(raw, as(json, String.class, type));
    }
    if (raw == List.class) {
      Type element = typeArgument(type, 0);
      List<Object> list = new ArrayList<>();
      for (Object item : as(json, JsonArray.class, type)) {
        list.add(decode(item, element));
      }
      return Collections.unmodifiableList(list);
    }
    Shape shape = SHAPES.get(raw);
    JsonObject o = as(json, JsonObject.class, type);
    if (shape.fromJson != null) {
      return invoke(shape.fromJson, null, o);
    }
    Map<TypeVariable<?>, Type> bindings = bindings(type, raw);
    Object[] args = new Object[shape.components.length];
    for (int i = 0; i < args.length; i++) {
      RecordComponent c = shape.components[i];
      args[i] = decode(o.getValue(c.getName()), resolve(c.getGenericType(), bindings));
    }
    try {
      return shape.constructor.newInstance(args);
    } catch (InvocationTargetException e) {
      throw new IllegalArgumentException("not a valid " + raw.getSimpleName() + ": " + e.getCause(), e.getCause());
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Refuses, with an {@link IllegalArgumentException} naming it, a type (or a type inside it) that
   * this codec has no form for.
   */
  public static void check(Type type) {
    check(type, new ArrayList<>());
  }

  private static void check(Type type, List<Type> seen) {
    if (seen.contains(type)) {
      return;
    }
    seen.add(type);
    Class<?> raw = raw(type);
    if (isScalar(raw) || raw == Void.class || raw == Instant.class || raw.isEnum()
        || raw == JsonObject.class || raw == JsonArray.class) {
      return;
    }
    if (raw == List.class) {
      check(typeArgument(type, 0), seen);
      return;
    }
    Shape shape = SHAPES.get(raw);
    if (shape.toJson == null) {
      Map<TypeVariable<?>, Type> bindings = bindings(type, raw);
      for (RecordComponent c : shape.components) {
        check(resolve(c.getGenericType(), bindings), seen);
      }
    }
  }

  // ---- types -------------------------------------------------------------------------------------

  private static boolean isScalar(Class<?> raw) {
    return raw == String.class || raw == Boolean.class || raw == Integer.class || raw == Long.class
        || raw == Double.class || (raw.isPrimitive() && raw != void.class && raw != char.class
            && raw != byte.class && raw != short.class && raw != float.class);
  }

  static Class<?> raw(Type type) {
    if (type instanceof Class<?> c) {
      return c;
    }
    if (type instanceof ParameterizedType p) {
      return (Class<?>) p.getRawType();
    }
    throw new IllegalArgumentException("no bus form for the type " + type);
  }

  static Type typeArgument(Type type, int index) {
    if (type instanceof ParameterizedType p) {
      return p.getActualTypeArguments()[index];
    }
    throw new IllegalArgumentException("no bus form for the raw type " + type + " (its type argument is needed)");
  }

  private static Map<TypeVariable<?>, Type> bindings(Type type, Class<?> raw) {
    TypeVariable<?>[] vars = raw.getTypeParameters();
    if (vars.length == 0) {
      return Map.of();
    }
    Map<TypeVariable<?>, Type> map = new HashMap<>();
    for (int i = 0; i < vars.length; i++) {
      map.put(vars[i], typeArgument(type, i));
    }
    return map;
  }

  /** {@code type} with the type variables of {@code bindings} replaced by their arguments. */
  private static Type resolve(Type type, Map<TypeVariable<?>, Type> bindings) {
    if (type instanceof TypeVariable<?> v) {
      Type bound = bindings.get(v);
      if (bound == null) {
        throw new IllegalArgumentException("no bus form for the unbound type variable " + v);
      }
      return bound;
    }
    if (type instanceof ParameterizedType p) {
      Type[] args = p.getActualTypeArguments().clone();
      boolean changed = false;
      for (int i = 0; i < args.length; i++) {
        Type r = resolve(args[i], bindings);
        changed |= r != args[i];
        args[i] = r;
      }
      return changed ? new Resolved((Class<?>) p.getRawType(), args) : p;
    }
    if (type instanceof WildcardType || type instanceof GenericArrayType) {
      throw new IllegalArgumentException("no bus form for the type " + type);
    }
    return type;
  }

  /** A parameterized type with its variables resolved (e.g. {@code List<ChatSession>} inside a page). */
  private record Resolved(Class<?> rawType, Type[] args) implements ParameterizedType {
    @Override
    public Type[] getActualTypeArguments() {
      return args.clone();
    }

    @Override
    public Type getRawType() {
      return rawType;
    }

    @Override
    public Type getOwnerType() {
      return null;
    }
  }

  // ---- shapes of contract types and records ------------------------------------------------------

  /** How a class other than the built-in ones is written: its own JSON methods, or its components. */
  private record Shape(Method toJson, Method fromJson, RecordComponent[] components, Constructor<?> constructor) {}

  private static final ClassValue<Shape> SHAPES = new ClassValue<>() {
    @Override
    protected Shape computeValue(Class<?> type) {
      Method toJson = publicMethod(type, "toJson");
      Method fromJson = publicMethod(type, "fromJson", JsonObject.class);
      if (toJson != null && toJson.getReturnType() == JsonObject.class && !Modifier.isStatic(toJson.getModifiers())
          && fromJson != null && Modifier.isStatic(fromJson.getModifiers())
          && type.isAssignableFrom(fromJson.getReturnType())) {
        return new Shape(toJson, fromJson, null, null);
      }
      if (!type.isRecord()) {
        throw new IllegalArgumentException("no bus form for " + type.getName()
            + ": neither a record nor a class with toJson() and static fromJson(JsonObject)");
      }
      RecordComponent[] components = type.getRecordComponents();
      Class<?>[] types = new Class<?>[components.length];
      for (int i = 0; i < components.length; i++) {
        types[i] = components[i].getType();
        components[i].getAccessor().setAccessible(true);
      }
      try {
        Constructor<?> constructor = type.getDeclaredConstructor(types);
        constructor.setAccessible(true);
        return new Shape(null, null, components, constructor);
      } catch (NoSuchMethodException e) {
        throw new IllegalStateException(e);
      }
    }
  };

  private static Method publicMethod(Class<?> type, String name, Class<?>... params) {
    try {
      return type.getMethod(name, params);
    } catch (NoSuchMethodException e) {
      return null;
    }
  }

  // ---- helpers -----------------------------------------------------------------------------------

  private static <T> T as(Object json, Class<T> expected, Type type) {
    if (!expected.isInstance(json)) {
      throw new IllegalArgumentException(
          "expected the form of " + type.getTypeName() + ", got a " + json.getClass().getSimpleName());
    }
    return expected.cast(json);
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static Object enumConstant(Class<?> type, String name) {
    return Enum.valueOf((Class) type, name);
  }

  private static Object invoke(Method method, Object target, Object... args) {
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw new IllegalArgumentException(
          "the JSON form of " + method.getDeclaringClass().getSimpleName() + " failed: " + e.getCause(), e.getCause());
    } catch (IllegalAccessException e) {
      throw new IllegalStateException(e);
    }
  }
}
