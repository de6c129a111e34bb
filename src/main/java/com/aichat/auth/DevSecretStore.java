package com.aichat.auth;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.file.FileSystem;
import io.vertx.core.file.FileSystemException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The generated HS256 secret of the embedded default, kept in {@code <node.data_dir>/dev-jwt-secret}.
 * It is created once: 256 random bits, base64url, written to a private temp file (owner-only where the
 * file system supports POSIX permissions) that is then hard-linked to the final name. Linking fails if
 * the name exists, so several verticle instances (or a {@code dev-token} run) starting at once all end
 * up with the same complete secret. All file IO goes through {@code vertx.fileSystem()}.
 */
public final class DevSecretStore {

  private static final Logger log = LoggerFactory.getLogger(DevSecretStore.class);
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String OWNER_ONLY = "rw-------";
  static final int MIN_LENGTH = 32;

  private DevSecretStore() {}

  /** Reads the secret, generating it first if the file does not exist yet. */
  public static Future<String> loadOrCreate(Vertx vertx, Path file) {
    FileSystem fs = vertx.fileSystem();
    String target = file.toAbsolutePath().toString();
    return fs.exists(target)
        .compose(exists -> exists ? Future.succeededFuture() : create(fs, file.toAbsolutePath()))
        .compose(v -> fs.readFile(target))
        .compose(buf -> validate(buf.toString(StandardCharsets.US_ASCII).trim(), target));
  }

  private static Future<Void> create(FileSystem fs, Path file) {
    String dir = file.getParent().toString();
    String target = file.toString();
    String temp = file.resolveSibling(file.getFileName() + ".tmp-" + Long.toHexString(RANDOM.nextLong())).toString();
    return fs.mkdirs(dir, "rwx------").recover(err -> fs.mkdirs(dir))
        .compose(v -> fs.createFile(temp, OWNER_ONLY).recover(err -> fs.createFile(temp)))
        .compose(v -> fs.writeFile(temp, io.vertx.core.buffer.Buffer.buffer(newSecret())))
        .compose(v -> fs.link(target, temp))
        .onSuccess(v -> log.info("generated a new dev JWT secret in {}", target))
        .recover(err -> alreadyCreated(err) ? Future.succeededFuture() : Future.failedFuture(err))
        .eventually(() -> fs.delete(temp).recover(err -> Future.succeededFuture()));
  }

  private static boolean alreadyCreated(Throwable err) {
    return err instanceof FileSystemException && err.getCause() instanceof FileAlreadyExistsException;
  }

  private static Future<String> validate(String secret, String path) {
    if (secret.length() < MIN_LENGTH) {
      return Future.failedFuture(new IllegalStateException(
          "the dev JWT secret in " + path + " is shorter than " + MIN_LENGTH + " characters; delete the file to regenerate it"));
    }
    return Future.succeededFuture(secret);
  }

  static String newSecret() {
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }
}
