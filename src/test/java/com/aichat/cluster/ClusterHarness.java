package com.aichat.cluster;

import com.aichat.testing.TestApp;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Real multi-JVM clusters for tests: every {@link Node} is a child JVM running {@code com.aichat.Main}
 * from the test classpath, with its own role configuration file ({@code CHAT_CONFIG}), its own data
 * directory and ports, all on loopback in one Hazelcast cluster with TCP-IP discovery (no multicast)
 * under a random cluster name, so parallel harnesses never meet.
 *
 * <p>With {@code -Dcluster.harness.keep=true} the directory (node logs, configs) is kept for a look.
 *
 * <p>Use it as a resource ({@code try (var h = new ClusterHarness()) {...}} or {@code close()} in an
 * {@code @AfterAll}): closing SIGKILLs every child still alive and deletes the temporary directory. A
 * JVM shutdown hook does the same if the test JVM exits first, so no child outlives the suite even when
 * a test fails or times out.
 *
 * <p>The children are kept small for a 2-core CI box: {@code -Xmx256m}, C1 only, serial GC, CDS on,
 * and the logging of {@code logback-cluster-child.xml} (service INFO, Hazelcast membership lines).
 * Each child's stdout and stderr go to {@code <node>/node.log}; {@link Node#awaitLog} reads it.
 */
public final class ClusterHarness implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ClusterHarness.class);

  /** Every child of every harness in this JVM; the shutdown hook kills what is left. */
  private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(Process::destroyForcibly),
        "cluster-harness-reaper"));
  }

  private static final Pattern MEMBERS = Pattern.compile("Members \\{size:(\\d+), ver:\\d+}");

  private final Path dir;
  private final String clusterName = "chat-harness-" + UUID.randomUUID();
  private final Map<String, Node> nodes = new LinkedHashMap<>();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final List<String> jvmFlags = new ArrayList<>(List.of(
      "-Xmx256m", "-Xss512k", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto",
      "-XX:CICompilerCount=1", "-Dlogback.configurationFile=logback-cluster-child.xml",
      "-Dhazelcast.phone.home.enabled=false"));

  public ClusterHarness() {
    try {
      dir = Files.createTempDirectory("cluster-harness-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Adds JVM flags for every child started afterwards (e.g. {@code -Dhazelcast.max.no.heartbeat.seconds=5}). */
  public ClusterHarness jvmFlags(String... flags) {
    jvmFlags.addAll(List.of(flags));
    return this;
  }

  public String clusterName() {
    return clusterName;
  }

  public Path dir() {
    return dir;
  }

  /**
   * Declares a node: {@code overrides} on top of {@link TestApp#config} (in-memory embedded store, free
   * ports, the test HS256 secret), with the cluster section filled in. Declare every node before
   * starting the first, so each one's TCP-IP member list names all of them.
   */
  public Node node(String name, JsonObject overrides) {
    if (nodes.containsKey(name)) {
      throw new IllegalArgumentException("node " + name + " is declared already");
    }
    Node n = new Node(name, dir.resolve(name), TestApp.freePort(), overrides == null ? new JsonObject() : overrides);
    nodes.put(name, n);
    return n;
  }

  /** {@code verticles.*} for a role: the instance count of each kind, the rest 0. */
  public static JsonObject roles(int persistence, int worker, int dispatcher, int api, int gateway) {
    return new JsonObject().put("verticles", new JsonObject()
        .put("persistence", persistence).put("worker", worker).put("dispatcher", dispatcher)
        .put("api", api).put("gateway", gateway));
  }

  public List<Node> nodes() {
    return List.copyOf(nodes.values());
  }

  /**
   * Starts the first node, and once it formed the cluster (one member) the others in parallel, so they
   * all join it rather than form clusters of their own (which Hazelcast would merge only minutes
   * later); waits until each logged its start and sees the whole cluster.
   */
  public void startAll(Duration timeout) {
    List<Node> all = List.copyOf(nodes.values());
    all.get(0).start().awaitMembers(1, timeout);
    all.subList(1, all.size()).forEach(Node::start);
    for (Node n : nodes.values()) {
      n.awaitStarted(timeout);
    }
    awaitMembers(nodes.size(), timeout);
  }

  /** Waits until every live node's latest Hazelcast member list has {@code size} members. */
  public void awaitMembers(int size, Duration timeout) {
    for (Node n : nodes.values()) {
      if (n.alive()) {
        n.awaitMembers(size, timeout);
      }
    }
  }

  @Override
  public void close() {
    nodes.values().forEach(Node::kill);
    if (Boolean.getBoolean("cluster.harness.keep")) {
      log.info("cluster.harness.keep: node logs kept in {}", dir);
      return;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      log.warn("cannot delete {}: {}", dir, e.toString());
    }
  }

  private List<String> memberList() {
    return nodes.values().stream().map(n -> "127.0.0.1:" + n.hazelcastPort).toList();
  }

  /** One child JVM of the cluster; restartable on the same ports and data directory. */
  public final class Node {

    private final String name;
    private final Path home;
    private final int hazelcastPort;
    private final JsonObject config;
    private Process process;
    private int starts;
    private boolean standalone;

    private Node(String name, Path home, int hazelcastPort, JsonObject overrides) {
      this.name = name;
      this.home = home;
      this.hazelcastPort = hazelcastPort;
      this.config = TestApp.config(home.resolve("data"), overrides);
    }

    public String name() {
      return name;
    }

    /** Runs this node unclustered (a single-node deployment; the others of the harness never meet it). */
    public Node standalone() {
      standalone = true;
      return this;
    }

    /** The node's data directory ({@code node.data_dir}). */
    public Path dataDir() {
      return home.resolve("data");
    }

    /** The node's effective configuration file content (ports, roles, cluster). */
    public JsonObject config() {
      return config;
    }

    public int httpPort() {
      return config.getJsonObject("http").getInteger("port");
    }

    public int gatewayPort() {
      return config.getJsonObject("gateway").getInteger("port");
    }

    public long pid() {
      return process.pid();
    }

    public boolean alive() {
      return process != null && process.isAlive();
    }

    /** The exit code of the last run (137 after SIGKILL); only once the process ended. */
    public int exitValue() {
      return process.exitValue();
    }

    public Path logFile() {
      return home.resolve("node-" + starts + ".log");
    }

    /** Starts the child JVM (again, after a kill: a new log file, same ports and data). */
    public Node start() {
      if (alive()) {
        throw new IllegalStateException("node " + name + " is running");
      }
      try {
        Files.createDirectories(home);
        config.put("cluster", standalone ? new JsonObject().put("enabled", false) : new JsonObject()
            .put("enabled", true)
            .put("host", "127.0.0.1")
            .put("name", clusterName)
            .put("port", hazelcastPort)
            .put("members", new JsonArray(new ArrayList<>(memberList()))));
        Path file = home.resolve("config.json");
        Files.writeString(file, config.encodePrettily());
        starts++;
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmFlags);
        cmd.addAll(List.of("-cp", classpath(), "com.aichat.Main"));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
            .redirectOutput(logFile().toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("CHAT_") || k.equals("ANTHROPIC_API_KEY"));
        pb.environment().put("CHAT_CONFIG", file.toString());
        process = pb.start();
        LIVE.add(process);
        log.info("node {} started (pid {}, http {}, gateway {}, hazelcast {}, log {})", name, process.pid(),
            httpPort(), gatewayPort(), hazelcastPort, logFile());
        return this;
      } catch (IOException e) {
        throw new UncheckedIOException("cannot start node " + name, e);
      }
    }

    /** SIGKILL: no shutdown hook, no drain; returns once the process is gone. */
    public void kill() {
      if (process == null) {
        return;
      }
      process.destroyForcibly();
      try {
        process.waitFor(20, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      LIVE.remove(process);
    }

    /**
     * SIGTERM, as a rolling restart stops a node: the JVM's shutdown hook drains it (see {@code Drain});
     * returns once the process is gone (SIGKILL after {@code timeout}). Its exit code is then 143.
     */
    public void stop(Duration timeout) {
      if (process == null) {
        return;
      }
      process.destroy();
      try {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
          log.warn("node {} did not stop in {}; killing it", name, timeout);
          process.destroyForcibly().waitFor(20, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      LIVE.remove(process);
    }

    /** SIGSTOP: the JVM freezes with its sockets open, as in a long GC pause or a stopped VM. */
    public void pause() {
      signal("STOP");
    }

    /** SIGCONT after {@link #pause()}. */
    public void resume() {
      signal("CONT");
    }

    private void signal(String sig) {
      try {
        Process p = new ProcessBuilder("kill", "-" + sig, Long.toString(process.pid())).inheritIO().start();
        if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
          throw new IllegalStateException("kill -" + sig + " " + process.pid() + " failed");
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }

    /** The node's log so far. */
    public String logText() {
      try {
        return Files.exists(logFile()) ? Files.readString(logFile(), StandardCharsets.UTF_8) : "";
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    /** Waits for a log line matching {@code regex}; fails with the log's tail if the node dies first. */
    public Matcher awaitLog(String regex, Duration timeout) {
      Pattern p = Pattern.compile(regex);
      long deadline = System.nanoTime() + timeout.toNanos();
      while (true) {
        Matcher m = p.matcher(logText());
        if (m.find()) {
          return m;
        }
        if (!alive()) {
          throw new AssertionError("node " + name + " exited (" + process.exitValue() + ") before /" + regex
              + "/ was logged:\n" + tail());
        }
        if (System.nanoTime() > deadline) {
          throw new AssertionError("node " + name + " did not log /" + regex + "/ in " + timeout + ":\n" + tail());
        }
        sleep(100);
      }
    }

    void awaitStarted(Duration timeout) {
      awaitLog("chat-service started", timeout);
    }

    /** Waits until the node's latest Hazelcast member list has {@code size} members. */
    public void awaitMembers(int size, Duration timeout) {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (true) {
        Matcher m = MEMBERS.matcher(logText());
        int last = -1;
        while (m.find()) {
          last = Integer.parseInt(m.group(1));
        }
        if (last == size) {
          return;
        }
        if (!alive() || System.nanoTime() > deadline) {
          throw new AssertionError("node " + name + " sees " + last + " members, not " + size + ":\n" + tail());
        }
        sleep(100);
      }
    }

    /** The status code of {@code GET path} on this node's HTTP API (-1 when it does not answer). */
    public int httpStatus(String path) {
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort() + path))
            .timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.ofString());
        return r.statusCode();
      } catch (IOException e) {
        return -1;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return -1;
      }
    }

    /** Waits until {@code /health/ready} answers 200 (nodes running the HTTP API only). */
    public void awaitReady(Duration timeout) {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (httpStatus("/health/ready") != 200) {
        if (!alive() || System.nanoTime() > deadline) {
          throw new AssertionError("node " + name + " is not ready:\n" + tail());
        }
        sleep(200);
      }
    }

    /** The last 60 lines of the log, for failure messages. */
    public String tail() {
      String[] lines = logText().split("\n");
      return String.join("\n", List.of(lines).subList(Math.max(0, lines.length - 60), lines.length));
    }
  }

  /**
   * The test classpath: {@code java.class.path} under surefire; under {@code exec:java} (benchmarks),
   * where that is Maven's own, the project class loader's URLs.
   */
  static String classpath() {
    if (Thread.currentThread().getContextClassLoader() instanceof java.net.URLClassLoader u) {
      List<String> parts = new ArrayList<>();
      for (java.net.URL url : u.getURLs()) {
        try {
          parts.add(Path.of(url.toURI()).toString());
        } catch (java.net.URISyntaxException e) {
          throw new IllegalStateException(e);
        }
      }
      if (!parts.isEmpty()) {
        return String.join(java.io.File.pathSeparator, parts);
      }
    }
    return System.getProperty("java.class.path");
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
