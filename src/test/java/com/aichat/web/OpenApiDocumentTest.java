package com.aichat.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/** src/main/resources/openapi.yaml generates good clients: every operation is named, uniquely. */
class OpenApiDocumentTest {

  private static final Set<String> METHODS = Set.of("get", "put", "post", "delete", "options", "head", "patch", "trace");

  @Test
  @DisplayName("Every operation of openapi.yaml has an operationId, and no two share one")
  @SuppressWarnings("unchecked")
  void everyOperationHasAnOperationId() throws IOException {
    Map<String, Object> doc = new Yaml().load(Files.readString(Path.of("src/main/resources/openapi.yaml")));
    Map<String, Map<String, Object>> paths = (Map<String, Map<String, Object>>) doc.get("paths");
    List<String> missing = new ArrayList<>();
    List<String> ids = new ArrayList<>();
    paths.forEach((path, item) -> item.forEach((method, op) -> {
      if (METHODS.contains(method)) {
        Object id = ((Map<String, Object>) op).get("operationId");
        if (id instanceof String s && s.matches("[a-z][A-Za-z0-9]*")) {
          ids.add(s);
        } else {
          missing.add(method.toUpperCase() + " " + path);
        }
      }
    }));
    assertThat(missing).as("operations without a camelCase operationId").isEmpty();
    assertThat(ids).hasSizeGreaterThanOrEqualTo(12).doesNotHaveDuplicates();
    assertThat(new HashSet<>(ids)).contains("createSession", "sendMessage", "cancelReply", "devSignIn");
  }
}
