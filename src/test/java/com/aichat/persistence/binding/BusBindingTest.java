package com.aichat.persistence.binding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.aichat.contract.Addresses;
import com.aichat.contract.ErrorCode;
import com.aichat.contract.Page;
import com.aichat.contract.SessionJobKind;
import com.aichat.persistence.ChatStore;
import com.aichat.persistence.Conversations;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@link BusProxy} and {@link BusService} on a real event bus, with a small interface served by both. */
@ExtendWith(VertxExtension.class)
class BusBindingTest {

  static final String ADDRESS = "test.binding.calls";

  record Item(String id, Instant at, SessionJobKind kind) {}

  @BusAddress(ADDRESS)
  public interface Calls {
    Future<Page<Item>> find(String userId, String title, Instant since, int limit, SessionJobKind kind);

    Future<Void> forget(String messageId);

    /** Fails with a {@link com.aichat.contract.ServiceFailure} of the code named. */
    Future<String> refuse(String code);

    /** Fails with an unexpected error carrying driver text. */
    Future<String> crash();

    /** Never answers. */
    Future<String> hang();

    default Future<Integer> count(String userId) {
      return find(userId, null, Instant.EPOCH, 100, SessionJobKind.TITLE).map(p -> p.items().size());
    }
  }

  /** Records what the server side was called with. */
  static final class Served implements Calls {
    final List<List<Object>> calls = new CopyOnWriteArrayList<>();

    @Override
    public Future<Page<Item>> find(String userId, String title, Instant since, int limit, SessionJobKind kind) {
      calls.add(java.util.Arrays.asList("find", userId, title, since, limit, kind));
      List<Item> items = java.util.stream.IntStream.range(0, limit)
          .mapToObj(i -> new Item("i" + i, since.plusSeconds(i), kind)).toList();
      return Future.succeededFuture(new Page<>(items, limit > 1 ? "more" : null));
    }

    @Override
    public Future<Void> forget(String messageId) {
      calls.add(java.util.Arrays.asList("forget", messageId));
      return Future.succeededFuture();
    }

    @Override
    public Future<String> refuse(String code) {
      return Future.failedFuture(ErrorCode.valueOf(code).failure("refused as " + code));
    }

    @Override
    public Future<String> crash() {
      return Future.failedFuture(new IllegalStateException("E11000 duplicate key error collection: secret.db"));
    }

    @Override
    public Future<String> hang() {
      return Promise.<String>promise().future();
    }
  }

  private Served served;
  private Calls calls;

  @BeforeEach
  void bind(Vertx vertx, VertxTestContext ctx) {
    served = new Served();
    calls = BusProxy.create(vertx, Calls.class, 2_000);
    BusService.serve(vertx, Calls.class, served).completion().onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a call reaches the implementation with its arguments and answers with its result")
  void roundTrip(VertxTestContext ctx) {
    Instant since = Instant.parse("2024-03-04T05:06:07.890Z");
    String user = "65AB" + "0".repeat(20);
    calls.find(user, "Title 65AB00000000000000000000", since, 2, SessionJobKind.SUMMARY)
        .onComplete(ctx.succeeding(page -> ctx.verify(() -> {
          assertThat(page).isEqualTo(new Page<>(
              List.of(new Item("i0", since, SessionJobKind.SUMMARY), new Item("i1", since.plusSeconds(1),
                  SessionJobKind.SUMMARY)), "more"));
          // the ObjectId argument arrives in lower case; other strings as sent
          assertThat(served.calls).containsExactly(List.of("find", user.toLowerCase(Locale.ROOT),
              "Title 65AB00000000000000000000", since, 2, SessionJobKind.SUMMARY));
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("Void results and null arguments cross as null")
  void voidAndNulls(VertxTestContext ctx) {
    calls.forget(null).compose(v -> calls.find(null, null, Instant.EPOCH, 0, null))
        .onComplete(ctx.succeeding(page -> ctx.verify(() -> {
          assertThat(page.items()).isEmpty();
          assertThat(page.nextCursor()).isNull();
          assertThat(served.calls).containsExactly(
              java.util.Arrays.asList("forget", null), java.util.Arrays.asList("find", null, null, Instant.EPOCH, 0, null));
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a default method runs on the proxy: only the abstract method it calls crosses the bus")
  void defaultMethodsRunLocally(Vertx vertx, VertxTestContext ctx) {
    List<String> actions = new CopyOnWriteArrayList<>();
    vertx.eventBus().addOutboundInterceptor(dc -> {
      if (ADDRESS.equals(dc.message().address())) {
        actions.add(dc.message().headers().get(Addresses.ACTION_HEADER));
      }
      dc.next();
    });
    calls.count("u").onComplete(ctx.succeeding(n -> ctx.verify(() -> {
      assertThat(n).isEqualTo(100);
      assertThat(actions).containsExactly("find");
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("a ServiceFailure reaches the caller with its code and message")
  void serviceFailureKeepsItsCode(VertxTestContext ctx) {
    calls.refuse("NOT_FOUND").onComplete(ctx.failing(err -> ctx.verify(() -> {
      assertThat(err).isInstanceOf(ReplyException.class);
      assertThat(((ReplyException) err).failureCode()).isEqualTo(ErrorCode.NOT_FOUND.failureCode());
      assertThat(ErrorCode.fromThrowable(err)).isEqualTo(ErrorCode.NOT_FOUND);
      assertThat(err.getMessage()).isEqualTo("refused as NOT_FOUND");
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("an unexpected failure is INTERNAL, without its driver text")
  void unexpectedFailureIsInternal(VertxTestContext ctx) {
    calls.crash().onComplete(ctx.failing(err -> ctx.verify(() -> {
      assertThat(((ReplyException) err).failureCode()).isEqualTo(ErrorCode.INTERNAL.failureCode());
      assertThat(err.getMessage()).isEqualTo("internal error").doesNotContain("E11000");
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("an unknown or missing action is VALIDATION_FAILED")
  void unknownAction(Vertx vertx, VertxTestContext ctx) {
    raw(vertx, "dropEverything", new JsonObject())
        .onComplete(ctx.failing(err -> ctx.verify(() -> {
          assertThat(((ReplyException) err).failureCode()).isEqualTo(ErrorCode.VALIDATION_FAILED.failureCode());
          assertThat(err.getMessage()).contains("dropEverything");
          vertx.eventBus().request(ADDRESS, new JsonObject())
              .onComplete(ctx.failing(err2 -> ctx.verify(() -> {
                assertThat(((ReplyException) err2).failureCode())
                    .isEqualTo(ErrorCode.VALIDATION_FAILED.failureCode());
                assertThat(served.calls).isEmpty();
                ctx.completeNow();
              })));
        })));
  }

  @Test
  @DisplayName("a malformed argument or body is VALIDATION_FAILED and the implementation is not called")
  void malformedArguments(Vertx vertx, VertxTestContext ctx) {
    JsonObject good = new JsonObject().put("since", "2024-01-01T00:00:00Z").put("limit", 1).put("kind", "TITLE");
    AtomicInteger refused = new AtomicInteger();
    Future.all(List.of(
            raw(vertx, "find", good.copy().put("since", "yesterday")),
            raw(vertx, "find", good.copy().put("kind", "bogus")),
            raw(vertx, "find", good.copy().put("limit", "ten")),
            raw(vertx, "find", good.copy().remove("limit") == null ? good : good.copy().put("userId", 7)),
            raw(vertx, "find", "not an object"))
        .stream().map(f -> f.recover(err -> {
          if (((ReplyException) err).failureCode() == ErrorCode.VALIDATION_FAILED.failureCode()) {
            refused.incrementAndGet();
          }
          return Future.succeededFuture();
        })).toList())
        .compose(v -> raw(vertx, "find", good))
        .onComplete(ctx.succeeding(ok -> ctx.verify(() -> {
          assertThat(refused).hasValue(5);
          assertThat(served.calls).hasSize(1);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a request that gets no answer fails after the client's timeout")
  void timeout(Vertx vertx, VertxTestContext ctx) {
    Calls impatient = BusProxy.create(vertx, Calls.class, 100);
    impatient.hang().onComplete(ctx.failing(err -> ctx.verify(() -> {
      assertThat(((ReplyException) err).failureType()).isEqualTo(ReplyFailure.TIMEOUT);
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("Object's methods answer on the proxy")
  void objectMethods(Vertx vertx) {
    Calls other = BusProxy.create(vertx, Calls.class);
    assertThat(calls).isEqualTo(calls).isNotEqualTo(other);
    assertThat(calls.hashCode()).isEqualTo(calls.hashCode());
    assertThat(calls.toString()).contains("Calls");
  }

  @BusAddress("x")
  interface Overloaded {
    Future<String> get(String a);

    Future<String> get(String a, String b);
  }

  @BusAddress("x")
  interface NotAsync {
    String now();
  }

  interface NoAddress {
    Future<String> get(String a);
  }

  @BusAddress("x")
  interface BadType {
    Future<java.util.Map<String, String>> get(String a);
  }

  @Test
  @DisplayName("an interface that cannot be bound is refused when the binding is made")
  void refusedInterfaces(Vertx vertx) {
    assertThatThrownBy(() -> BusProxy.create(vertx, Overloaded.class)).hasMessageContaining("overloaded");
    assertThatThrownBy(() -> BusProxy.create(vertx, NotAsync.class)).hasMessageContaining("Future");
    assertThatThrownBy(() -> BusProxy.create(vertx, NoAddress.class)).hasMessageContaining("@BusAddress");
    assertThatThrownBy(() -> new BusService<>(BadType.class, a -> Future.succeededFuture()))
        .hasMessageContaining("Map");
  }

  @Test
  @DisplayName("every abstract method of the store's interfaces is an action")
  void storeInterfacesBind() {
    for (Class<?> iface : BusCodecTest.BOUND) {
      long abstractMethods = java.util.Arrays.stream(iface.getMethods())
          .filter(m -> !m.isDefault() && !java.lang.reflect.Modifier.isStatic(m.getModifiers())).count();
      assertThat(Operation.of(iface)).hasSize((int) abstractMethods);
    }
    assertThat(Operation.of(Conversations.class)).containsKeys("sendMessage", "search");
  }

  @Test
  @DisplayName("a client of an interface extending several sends each method to the address of the one declaring it")
  void routesByDeclaringInterface() {
    var ops = Operation.of(ChatStore.class);
    assertThat(ops.get("sendMessage").address()).isEqualTo(Addresses.CONVERSATIONS);
    assertThat(ops.get("claimGeneration").address()).isEqualTo(Addresses.GENERATIONS);
    assertThat(ops.get("claimSessionJob").address()).isEqualTo(Addresses.JOBS);
    assertThat(ops.get("findStrandedReplies").address()).isEqualTo(Addresses.RECOVERY);
    int total = 0;
    for (Class<?> iface : BusCodecTest.BOUND) {
      total += Operation.of(iface).size();
    }
    assertThat(ops).hasSize(total);
  }

  private static Future<Object> raw(Vertx vertx, String action, Object body) {
    return vertx.eventBus().request(ADDRESS, body, new DeliveryOptions().addHeader(Addresses.ACTION_HEADER, action))
        .map(m -> m.body());
  }
}
