package com.aichat.persistence.binding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.aichat.contract.ChatSession;
import com.aichat.contract.Page;
import com.aichat.contract.SessionJobKind;
import com.aichat.persistence.Conversations;
import com.aichat.persistence.Conversations.SearchBudget;
import com.aichat.persistence.Generations;
import com.aichat.persistence.Jobs;
import com.aichat.persistence.Recovery;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.lang.reflect.Type;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** The JSON forms of {@link BusCodec}: every type the store's interfaces use survives the bus. */
class BusCodecTest {

  /** The interfaces served with the binding. */
  static final List<Class<?>> BOUND = List.of(Conversations.class, Generations.class, Jobs.class, Recovery.class);

  /** A record without JSON methods of its own, generic and nested, like {@code Page}. */
  record Box<T>(List<T> items, Instant at, SessionJobKind kind, Inner inner) {}

  record Inner(long count, boolean flag, String note) {}

  @TestFactory
  @DisplayName("every parameter and result type of the bound interfaces round-trips, also through a JSON string")
  List<DynamicTest> everyTypeInUseRoundTrips() {
    Set<Type> types = new java.util.LinkedHashSet<>();
    BOUND.forEach(iface -> types.addAll(Samples.typesOf(iface)));
    assertThat(types).hasSizeGreaterThan(20);
    return types.stream()
        .map(type -> DynamicTest.dynamicTest(type.getTypeName(), () -> {
          BusCodec.check(type);
          Object sample = Samples.of(type);
          Object json = BusCodec.encode(sample, type);
          assertThat(json == null || json instanceof String || json instanceof Number || json instanceof Boolean
              || json instanceof JsonObject || json instanceof JsonArray).as("a bus-native value").isTrue();
          Object back = BusCodec.decode(json, type);
          assertThat(BusCodec.encode(back, type)).isEqualTo(json);
          // a clustered bus carries JSON text: numbers may come back narrower (a long as an int)
          Object overTheWire = json == null ? null : Json.decodeValue(Json.encode(json));
          assertThat(BusCodec.encode(BusCodec.decode(overTheWire, type), type)).isEqualTo(json);
          if (!type.getTypeName().contains("SearchHit")) { // int[] highlights compare by identity
            assertThat(back).isEqualTo(sample);
          }
          if (!BusCodec.raw(type).isPrimitive()) {
            assertThat(BusCodec.encode(null, type)).isNull();
            assertThat(BusCodec.decode(null, type)).isNull();
          }
        }))
        .toList();
  }

  @Test
  @DisplayName("scalars, instants and enums have their plain JSON forms")
  void plainForms() {
    Instant at = Instant.parse("2024-01-02T03:04:05.006Z");
    assertThat(BusCodec.encode(at, Instant.class)).isEqualTo("2024-01-02T03:04:05.006Z");
    assertThat(BusCodec.decode("2024-01-02T03:04:05.006Z", Instant.class)).isEqualTo(at);
    assertThat(BusCodec.encode(SessionJobKind.SUMMARY, SessionJobKind.class)).isEqualTo("SUMMARY");
    assertThat(BusCodec.decode("TITLE", SessionJobKind.class)).isEqualTo(SessionJobKind.TITLE);
    assertThat(BusCodec.decode(3, long.class)).isEqualTo(3L);
    assertThat(BusCodec.decode(3L, int.class)).isEqualTo(3);
    assertThat(BusCodec.encode(null, Void.class)).isNull();
    assertThat(BusCodec.decode(null, Void.class)).isNull();
  }

  @Test
  @DisplayName("a record is an object of its components, type variables resolved, recursively")
  void recordsByComponent() throws Exception {
    Type type = BusCodecTest.class.getDeclaredField("boxOfStrings").getGenericType();
    Box<String> box = new Box<>(List.of("a", "b"), Instant.EPOCH, SessionJobKind.TITLE, new Inner(5, true, null));
    JsonObject json = (JsonObject) BusCodec.encode(box, type);
    assertThat(json).isEqualTo(new JsonObject()
        .put("items", new JsonArray().add("a").add("b"))
        .put("at", "1970-01-01T00:00:00Z")
        .put("kind", "TITLE")
        .put("inner", new JsonObject().put("count", 5L).put("flag", true)));
    assertThat(BusCodec.decode(json, type)).isEqualTo(box);

    assertThat(BusCodec.encode(new SearchBudget(10, 20), SearchBudget.class))
        .isEqualTo(new JsonObject().put("maxScanBytes", 10L).put("maxTimeMs", 20L));
  }

  @Test
  @DisplayName("a page has the form of Page.toJson, its items in their own form")
  void pageOfSessions() throws Exception {
    Type type = BusCodecTest.class.getDeclaredField("pageOfSessions").getGenericType();
    ChatSession s = new ChatSession("a".repeat(24), "b".repeat(24), null, "t", Instant.EPOCH, Instant.EPOCH, null, 2);
    Page<ChatSession> page = new Page<>(List.of(s), "next");
    assertThat(BusCodec.encode(page, type)).isEqualTo(page.toJson(ChatSession::toJson));
    assertThat(BusCodec.decode(page.toJson(ChatSession::toJson), type)).isEqualTo(page);
  }

  @Test
  @DisplayName("a value not of its type's form is refused with IllegalArgumentException")
  void malformedValues() {
    assertThatThrownBy(() -> BusCodec.decode(12, String.class)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> BusCodec.decode("x", long.class)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> BusCodec.decode(null, int.class)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> BusCodec.decode(null, boolean.class)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> BusCodec.decode("yesterday", Instant.class)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> BusCodec.decode("bogus", SessionJobKind.class)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> BusCodec.decode("{}", ChatSession.class)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> BusCodec.decode(new JsonObject(), JsonArray.class))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> BusCodec.decode(new JsonObject().put("maxScanBytes", "lots").put("maxTimeMs", 1),
        SearchBudget.class)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  @DisplayName("a type without a bus form is refused when checked, naming it")
  void unsupportedTypes() throws Exception {
    assertThatThrownBy(() -> BusCodec.check(Object.class)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("java.lang.Object");
    assertThatThrownBy(() -> BusCodec.check(List.class)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> BusCodec.check(BusCodecTest.class.getDeclaredField("map").getGenericType()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Map");
    assertThatThrownBy(() -> BusCodec.check(BusCodecTest.class.getDeclaredField("wildcard").getGenericType()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> BusCodec.check(java.util.Date.class)).isInstanceOf(IllegalArgumentException.class);
  }

  // fields whose generic types the tests read
  @SuppressWarnings("unused")
  private Box<String> boxOfStrings;
  @SuppressWarnings("unused")
  private Page<ChatSession> pageOfSessions;
  @SuppressWarnings("unused")
  private Map<String, String> map;
  @SuppressWarnings("unused")
  private List<? extends CharSequence> wildcard;
}
