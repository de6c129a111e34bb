package com.aichat.ops;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.config.ConfigException;
import com.aichat.contract.LeaseOwners;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@DisplayName("NodeIdentity: one node per data directory, an incarnation per start, earlier lease owners remembered")
class NodeIdentityTest {

  private static <T> T await(io.vertx.core.Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  @Test
  @DisplayName("a second node on a held data directory is refused; after the first closes, the next start is incarnation 2 and knows incarnation 1's lease owner")
  void lockAndIncarnations(@TempDir Path dir) throws Exception {
    Vertx first = Vertx.vertx();
    Vertx second = Vertx.vertx();
    Vertx third = Vertx.vertx();
    try {
      NodeIdentity one = await(NodeIdentity.acquire(first, dir));
      assertThat(one.incarnation()).isEqualTo(1);
      assertThat(one.earlier()).isEmpty();
      assertThat(one.leaseNode()).isEqualTo(one.id() + ".1");
      assertThat(LeaseOwners.nodeId(first)).isEqualTo(one.leaseNode());
      assertThat(LeaseOwners.newWorkerId(first, "d", 1)).startsWith(one.id() + ".1/");
      // the same Vert.x starting again is the same node
      assertThat(await(NodeIdentity.acquire(first, dir))).isSameAs(one);

      Throwable refused = NodeIdentity.acquire(second, dir).toCompletionStage().toCompletableFuture()
          .handle((ok, err) -> err).get(20, TimeUnit.SECONDS);
      assertThat(refused).isInstanceOf(ConfigException.class).hasMessageContaining("in use by another running node");
      assertThat(NodeIdentity.of(second)).isNull();

      await(first.close());
      NodeIdentity two = await(NodeIdentity.acquire(third, dir));
      assertThat(two.id()).isEqualTo(one.id());
      assertThat(two.incarnation()).isEqualTo(2);
      assertThat(two.earlier()).containsExactly(one.leaseNode());
      JsonObject stored = new JsonObject(Files.readString(dir.resolve(NodeIdentity.FILE)));
      assertThat(stored.getJsonArray("leaseNodes").getList()).isEqualTo(List.of(one.leaseNode(), two.leaseNode()));
    } finally {
      await(second.close());
      await(third.close());
    }
  }
}
