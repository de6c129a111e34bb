package com.aichat.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 10 finding 12: the embedded store's directory and file are readable by their owner only. */
class EmbeddedStorePermissionsTest {

  @TempDir Path tmp;

  @Test
  @DisplayName("A new data directory is 0700 and mongo.mv 0600; an existing 0755 directory and 0644 store are tightened")
  void storeIsOwnerOnly() throws Exception {
    assumeTrue(Files.getFileAttributeView(tmp, PosixFileAttributeView.class) != null, "POSIX file system");
    Path fresh = tmp.resolve("fresh/data");
    EmbeddedMongo a = EmbeddedMongo.start("h2", fresh, 0);
    try {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(fresh))).isEqualTo("rwx------");
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(fresh.resolve(EmbeddedMongo.STORE_FILE))))
          .isEqualTo("rw-------");
    } finally {
      a.stop();
    }
    // a store created by an earlier version with the default umask
    Files.setPosixFilePermissions(fresh, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.setPosixFilePermissions(fresh.resolve(EmbeddedMongo.STORE_FILE), PosixFilePermissions.fromString("rw-r--r--"));
    EmbeddedMongo b = EmbeddedMongo.start("h2", fresh, 0);
    try {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(fresh))).isEqualTo("rwx------");
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(fresh.resolve(EmbeddedMongo.STORE_FILE))))
          .isEqualTo("rw-------");
    } finally {
      b.stop();
    }
  }
}
