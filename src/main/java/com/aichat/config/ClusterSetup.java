package com.aichat.config;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.JksOptions;
import io.vertx.core.net.PfxOptions;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns {@link ClusterSettings} into the Vert.x and Hazelcast options of a clustered node, so that
 * {@code Main} and the cluster tests build nodes the same way.
 *
 * <ul>
 *   <li>Event bus: bind host and public host; with {@code cluster.tls}, TLS with the node's key store,
 *       the trust store for both directions (server certificates are verified too: Vert.x's event-bus
 *       default is to trust all), and client authentication required, so a node without a certificate
 *       from the trusted CA can neither send to nor receive from the others.
 *   <li>Hazelcast: the configuration Vert.x would load (its {@code default-cluster.xml}, or
 *       {@code -Dvertx.hazelcast.config}); with {@code cluster.members}, TCP-IP discovery with that
 *       member list and multicast off; {@code cluster.name} and {@code cluster.port} when set.
 * </ul>
 *
 * Hazelcast's own member protocol is not encrypted (that is a Hazelcast Enterprise feature): keep its
 * port ({@code cluster.port}) reachable only from the cluster's hosts.
 */
public final class ClusterSetup {

  private ClusterSetup() {}

  /** The Vert.x options of a clustered node. */
  public static VertxOptions vertxOptions(ClusterSettings c) {
    VertxOptions options = new VertxOptions();
    EventBusOptions bus = options.getEventBusOptions();
    if (c.host() != null) {
      bus.setHost(c.host());
    }
    if (c.publicHost() != null) {
      bus.setClusterPublicHost(c.publicHost());
    }
    if (c.tls() != null) {
      ClusterSettings.Tls tls = c.tls();
      // JksOptions/PfxOptions rather than a generic KeyStoreOptions: the clustered event bus copies its
      // options through their JSON form, which only knows these types.
      if ("jks".equals(tls.storeType())) {
        bus.setKeyCertOptions(new JksOptions().setPath(tls.keyStore()).setPassword(tls.keyStorePassword()))
            .setTrustOptions(new JksOptions().setPath(tls.trustStore()).setPassword(tls.trustStorePassword()));
      } else {
        bus.setKeyCertOptions(new PfxOptions().setPath(tls.keyStore()).setPassword(tls.keyStorePassword()))
            .setTrustOptions(new PfxOptions().setPath(tls.trustStore()).setPassword(tls.trustStorePassword()));
      }
      // EventBusOptions trusts every server certificate by default (trustAll = true): without this a
      // node would send requests, user data included, to any peer that merely speaks TLS.
      bus.setSsl(true).setTrustAll(false).setClientAuth(ClientAuth.REQUIRED);
    }
    return options;
  }

  /** The Hazelcast configuration of a clustered node. */
  public static Config hazelcastConfig(ClusterSettings c) {
    Config hz = ConfigUtil.loadConfig();
    hz.setProperty("hazelcast.phone.home.enabled", "false");
    if (hz.getProperty("hazelcast.logging.type") == null) {
      hz.setProperty("hazelcast.logging.type", "slf4j");
    }
    if (c.name() != null) {
      hz.setClusterName(c.name());
    }
    NetworkConfig net = hz.getNetworkConfig();
    net.setPort(c.port()).setPortAutoIncrement(true);
    if (c.host() != null && c.host().matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
      net.getInterfaces().setEnabled(true).addInterface(c.host());
    }
    if (!c.members().isEmpty()) {
      JoinConfig join = net.getJoin();
      join.getMulticastConfig().setEnabled(false);
      join.getAutoDetectionConfig().setEnabled(false);
      join.getTcpIpConfig().setEnabled(true).setMembers(new ArrayList<>(c.members()));
    }
    return hz;
  }

  /** What an operator should hear at startup about an insecure cluster setup (empty when secure). */
  public static List<String> warnings(ClusterSettings c) {
    List<String> out = new ArrayList<>();
    if (!c.enabled()) {
      return out;
    }
    if (c.tls() == null) {
      out.add("cluster.tls.enabled is false: event-bus traffic between nodes is plaintext and unauthenticated,"
          + " so any host that can join the cluster can call the store (chat.persistence.*) for any user;"
          + " set cluster.tls.* (see conf/cluster-tcp.example.json)");
    }
    if (c.members().isEmpty()) {
      out.add("cluster.members is empty: nodes are discovered with the Hazelcast configuration's join"
          + " (multicast by default), so any host on the network segment can join;"
          + " list the members in cluster.members for TCP-IP discovery");
    }
    return out;
  }
}
