package com.aichat.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Test-only PKCS#12 stores for event-bus TLS, generated at test time with the JDK's {@code keytool}
 * (no private key is committed): a cluster CA, node key stores signed by it, a trust store holding
 * only the CA certificate, and a "rogue" key store whose self-signed certificate no trust store
 * accepts.
 */
public final class TestCerts {

  /** Password of every generated store. */
  public static final String PASSWORD = "test-only-password";

  private final Path dir;

  private TestCerts(Path dir) {
    this.dir = dir;
  }

  /** Creates the CA and its trust store in {@code dir}. */
  public static TestCerts create(Path dir) {
    TestCerts c = new TestCerts(dir);
    c.keytool("-genkeypair", "-alias", "ca", "-keyalg", "EC", "-groupname", "secp256r1",
        "-dname", "CN=chat-test-cluster-ca", "-ext", "bc:c", "-validity", "2",
        "-keystore", c.path("ca.p12"), "-storetype", "PKCS12", "-storepass", PASSWORD);
    c.keytool("-exportcert", "-rfc", "-alias", "ca", "-keystore", c.path("ca.p12"), "-storepass", PASSWORD,
        "-file", c.path("ca.pem"));
    c.keytool("-importcert", "-noprompt", "-alias", "ca", "-file", c.path("ca.pem"),
        "-keystore", c.path("trust.p12"), "-storetype", "PKCS12", "-storepass", PASSWORD);
    return c;
  }

  /** The trust store: the CA certificate only. */
  public String trustStore() {
    return path("trust.p12");
  }

  /** A key store for {@code name} whose certificate the CA signed. */
  public String signedNode(String name) {
    String store = path(name + ".p12");
    keytool("-genkeypair", "-alias", "node", "-keyalg", "EC", "-groupname", "secp256r1",
        "-dname", "CN=" + name, "-validity", "2", "-keystore", store, "-storetype", "PKCS12",
        "-storepass", PASSWORD);
    keytool("-certreq", "-alias", "node", "-keystore", store, "-storepass", PASSWORD, "-file", path(name + ".csr"));
    keytool("-gencert", "-rfc", "-alias", "ca", "-keystore", path("ca.p12"), "-storepass", PASSWORD,
        "-infile", path(name + ".csr"), "-outfile", path(name + ".pem"), "-validity", "2");
    keytool("-importcert", "-noprompt", "-alias", "ca", "-file", path("ca.pem"), "-keystore", store,
        "-storepass", PASSWORD);
    keytool("-importcert", "-alias", "node", "-file", path(name + ".pem"), "-keystore", store,
        "-storepass", PASSWORD);
    return store;
  }

  /** A key store for {@code name} with a self-signed certificate (not signed by the CA). */
  public String selfSignedNode(String name) {
    String store = path(name + ".p12");
    keytool("-genkeypair", "-alias", "node", "-keyalg", "EC", "-groupname", "secp256r1",
        "-dname", "CN=" + name, "-validity", "2", "-keystore", store, "-storetype", "PKCS12",
        "-storepass", PASSWORD);
    return store;
  }

  private String path(String file) {
    return dir.resolve(file).toString();
  }

  private void keytool(String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    cmd.addAll(List.of(args));
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException("keytool " + args[0] + " failed: " + out);
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot run keytool", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
