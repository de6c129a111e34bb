package com.aichat.ai;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.ai.FakeAnthropicServer.Recorded;
import com.aichat.contract.DeltaEvent;
import com.aichat.contract.MessageStatus;
import com.aichat.persistence.Conversations.SendLimits;
import com.aichat.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(VertxExtension.class)
@DisplayName("Regenerate, edit, continue and feedback through the REST API, against the fake provider")
class MessageVersionsTest {

  private Vertx vertx;
  private GenerationHarness h;
  private UserHttp api;
  private String userId;
  private String token;
  private String session;

  private Future<Void> start(Vertx vertx, Path dir, JsonObject overrides) {
    this.vertx = vertx;
    userId = TestTokens.newUserId();
    token = TestTokens.token(vertx, userId);
    return GenerationHarness.start(vertx, dir, overrides)
        .compose(started -> {
          h = started;
          api = new UserHttp(vertx, h, token);
          return api.call(HttpMethod.POST, "/chats", new JsonObject().put("title", "versions"));
        })
        .map(r -> {
          session = r.body().getString("id");
          return null;
        });
  }

  @AfterEach
  void stop(VertxTestContext ctx) {
    api.close();
    h.close().onComplete(ctx.succeedingThenComplete());
  }

  private String messages() {
    return "/chats/" + session + "/messages";
  }

  private static Predicate<JsonObject> finalVersion(int version) {
    return m -> m.getInteger("version") == version
        && MessageStatus.fromWire(m.getString("status")).isFinal();
  }

  /** Sends {@code text} over HTTP and waits for its reply to be final; returns {userMessage, reply}. */
  private Future<JsonObject> exchange(String text) {
    return api.call(HttpMethod.POST, messages(), new JsonObject().put("content", text))
        .compose(r -> {
          assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(202);
          JsonObject pair = r.body();
          return api.pollUntil(messages() + "/" + pair.getJsonObject("reply").getString("id"), finalVersion(1))
              .map(reply -> pair.put("reply", reply));
        });
  }

  private static String errorCode(HttpResponse<JsonObject> r) {
    return r.body().getJsonObject("error").getString("code");
  }

  @Test
  @DisplayName("regenerate keeps the first version readable, the same clientMessageId replays it, and a later send's context carries the kept version")
  void regenerateKeepsVersions(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    String[] reply = new String[1];
    start(vertx, dir, null)
        .compose(v -> {
          h.fake().script("regen-q", FakeAnthropicServer.stream(List.of("first ", "answer"), 2),
              FakeAnthropicServer.stream(List.of("second ", "answer"), 2));
          return exchange("regen-q");
        })
        .compose(pair -> {
          reply[0] = messages() + "/" + pair.getJsonObject("reply").getString("id");
          ctx.verify(() -> assertThat(pair.getJsonObject("reply").getString("content")).isEqualTo("first answer"));
          return api.call(HttpMethod.POST, reply[0] + "/regenerate", new JsonObject().put("clientMessageId", "regen-1"));
        })
        .compose(r -> {
          ctx.verify(() -> {
            assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(202);
            JsonObject started = r.body().getJsonObject("reply");
            assertThat(started.getInteger("version")).isEqualTo(2);
            assertThat(started.getString("status")).isEqualTo("pending");
            assertThat(started.getString("content")).isEmpty();
            assertThat(r.body().getJsonObject("userMessage").getString("content")).isEqualTo("regen-q");
          });
          return api.pollUntil(reply[0], finalVersion(2));
        })
        .compose(v2 -> {
          ctx.verify(() -> {
            assertThat(v2.getString("status")).isEqualTo("completed");
            assertThat(v2.getString("content")).isEqualTo("second answer");
            JsonArray versions = v2.getJsonArray("versions");
            assertThat(versions).hasSize(1);
            JsonObject v1 = versions.getJsonObject(0);
            assertThat(v1.getInteger("version")).isEqualTo(1);
            assertThat(v1.getString("content")).isEqualTo("first answer");
            assertThat(v1.getString("status")).isEqualTo("completed");
            assertThat(v1.getString("model")).isEqualTo(FakeAnthropicServer.MODEL);
            assertThat(v1.getString("completedAt")).isNotNull();
          });
          return api.call(HttpMethod.POST, reply[0] + "/regenerate", new JsonObject().put("clientMessageId", "regen-1"));
        })
        .compose(replay -> {
          ctx.verify(() -> {
            assertThat(replay.statusCode()).isEqualTo(200);
            assertThat(replay.body().getBoolean("created")).isFalse();
            assertThat(replay.body().getJsonObject("reply").getInteger("version")).isEqualTo(2);
            assertThat(replay.body().getJsonObject("reply").getString("content")).isEqualTo("second answer");
            assertThat(h.fake().requestsFor("regen-q")).hasSize(2);
          });
          h.fake().script("follow-q", FakeAnthropicServer.stream(List.of("ok"), 2));
          return exchange("follow-q");
        })
        .onComplete(ctx.succeeding(pair -> ctx.verify(() -> {
          Recorded follow = h.fake().requestsFor("follow-q").get(0);
          JsonArray sent = follow.body().getJsonArray("messages");
          String all = sent.encode();
          assertThat(all).contains("second answer").doesNotContain("first answer");
          assertThat(sent.getJsonObject(1).getString("role")).isEqualTo("assistant");
          assertThat(Recorded.textOf(sent.getJsonObject(1))).isEqualTo("second answer");
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("editing the last user message keeps its earlier text and regenerates its reply from the new text")
  void editRegenerates(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    String[] ids = new String[2];
    start(vertx, dir, null)
        .compose(v -> {
          h.fake().script("edit-old", FakeAnthropicServer.stream(List.of("old ", "reply"), 2));
          h.fake().script("edit-new", FakeAnthropicServer.stream(List.of("new ", "reply"), 2));
          return exchange("edit-old");
        })
        .compose(pair -> {
          ids[0] = pair.getJsonObject("userMessage").getString("id");
          ids[1] = pair.getJsonObject("reply").getString("id");
          return api.call(HttpMethod.PATCH, messages() + "/" + ids[0],
              new JsonObject().put("content", "edit-new please").put("clientMessageId", "edit-1"));
        })
        .compose(r -> {
          ctx.verify(() -> {
            assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(202);
            JsonObject user = r.body().getJsonObject("userMessage");
            assertThat(user.getString("content")).isEqualTo("edit-new please");
            assertThat(user.getInteger("version")).isEqualTo(2);
            assertThat(user.getJsonArray("versions").getJsonObject(0).getString("content")).isEqualTo("edit-old");
            assertThat(r.body().getJsonObject("reply").getString("id")).isEqualTo(ids[1]);
          });
          return api.pollUntil(messages() + "/" + ids[1], finalVersion(2));
        })
        .compose(reply -> {
          ctx.verify(() -> {
            assertThat(reply.getString("content")).isEqualTo("new reply");
            assertThat(reply.getJsonArray("versions").getJsonObject(0).getString("content")).isEqualTo("old reply");
            assertThat(h.fake().requestsFor("edit-new")).hasSize(1);
            assertThat(h.fake().requestsFor("edit-new").get(0).lastUserText()).isEqualTo("edit-new please");
          });
          return api.call(HttpMethod.PATCH, messages() + "/" + ids[0],
              new JsonObject().put("content", "edit-new please").put("clientMessageId", "edit-1"));
        })
        .compose(replay -> {
          ctx.verify(() -> {
            assertThat(replay.statusCode()).isEqualTo(200);
            assertThat(replay.body().getJsonObject("userMessage").getInteger("version")).isEqualTo(2);
            assertThat(h.fake().requestsFor("edit-new")).hasSize(1);
          });
          return api.call(HttpMethod.GET, messages(), null);
        })
        .onComplete(ctx.succeeding(list -> ctx.verify(() -> {
          assertThat(list.body().getJsonArray("items")).hasSize(2);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("continue appends to a reply that stopped at max_tokens: contiguous delta offsets, the text so far sent as the assistant prefill")
  void continueAppends(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    String[] reply = new String[2];
    start(vertx, dir, null)
        .compose(v -> {
          h.fake().script("cont-q", new FakeAnthropicServer.Truncated(List.of("Part one, ", "part two "), 2),
              FakeAnthropicServer.stream(List.of("and ", "the end."), 2));
          return exchange("cont-q");
        })
        .compose(pair -> {
          reply[1] = pair.getJsonObject("reply").getString("id");
          reply[0] = messages() + "/" + reply[1];
          JsonObject first = pair.getJsonObject("reply");
          ctx.verify(() -> {
            assertThat(first.getString("stopReason")).isEqualTo("max_tokens");
            assertThat(first.getString("content")).isEqualTo("Part one, part two ");
          });
          return api.call(HttpMethod.POST, reply[0] + "/continue", new JsonObject().put("clientMessageId", "cont-1"));
        })
        .compose(r -> {
          ctx.verify(() -> {
            assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(202);
            assertThat(r.body().getJsonObject("reply").getInteger("continueOffset")).isEqualTo(19);
            assertThat(r.body().getJsonObject("reply").getInteger("version")).isEqualTo(1);
          });
          return api.pollUntil(reply[0], m -> m.getString("status").equals("completed") && m.getString("content").endsWith("end."));
        })
        .compose(done -> {
          ctx.verify(() -> {
            assertThat(done.getString("content")).isEqualTo("Part one, part two and the end.");
            assertThat(done.getString("stopReason")).isEqualTo("end_turn");
            assertThat(done.containsKey("continueOffset")).isFalse();
            List<DeltaEvent> deltas = h.deltas(reply[1]);
            StringBuilder text = new StringBuilder();
            for (DeltaEvent d : deltas) {
              if (d.seq() == 1) {
                // each attempt starts where its text starts: 0 for the first, the continued length after
                text.setLength(d.offset() == 0 ? 0 : (int) d.offset());
              }
              assertThat(d.offset()).isEqualTo(text.length());
              text.append(d.text());
            }
            assertThat(text.toString()).isEqualTo("Part one, part two and the end.");
            Recorded second = h.fake().requestsFor("cont-q").get(1);
            JsonArray sent = second.body().getJsonArray("messages");
            JsonObject last = sent.getJsonObject(sent.size() - 1);
            assertThat(last.getString("role")).isEqualTo("assistant");
            assertThat(Recorded.textOf(last)).isEqualTo("Part one, part two");
          });
          return api.call(HttpMethod.POST, reply[0] + "/continue", null);
        })
        .onComplete(ctx.succeeding(again -> ctx.verify(() -> {
          assertThat(again.statusCode()).isEqualTo(409);
          assertThat(errorCode(again)).isEqualTo("NOT_CONTINUABLE");
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a regeneration is cancelled with the existing cancel endpoint; the earlier version stays")
  void cancelRegeneration(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    String[] reply = new String[2];
    start(vertx, dir, null)
        .compose(v -> {
          h.fake().script("cancel-regen", FakeAnthropicServer.stream(List.of("kept"), 2),
              FakeAnthropicServer.stream(FakeAnthropicServer.words(500), 10));
          return exchange("cancel-regen");
        })
        .compose(pair -> {
          reply[1] = pair.getJsonObject("reply").getString("id");
          reply[0] = messages() + "/" + reply[1];
          return api.call(HttpMethod.POST, reply[0] + "/regenerate", null);
        })
        .compose(r -> api.pollUntil(reply[0], m -> m.getString("status").equals("processing")
            && h.deltas(reply[1]).stream().anyMatch(d -> d.seq() >= 2 && !d.text().equals("kept"))))
        .compose(m -> api.call(HttpMethod.POST, reply[0] + "/regenerate", null).compose(busy -> {
          ctx.verify(() -> {
            assertThat(busy.statusCode()).isEqualTo(409);
            assertThat(errorCode(busy)).isEqualTo("GENERATION_IN_PROGRESS");
          });
          return api.call(HttpMethod.POST, reply[0] + "/cancel", null);
        }))
        .compose(r -> {
          ctx.verify(() -> assertThat(r.statusCode()).isEqualTo(202));
          return api.pollUntil(reply[0], m -> m.getString("status").equals("cancelled"));
        })
        .onComplete(ctx.succeeding(cancelled -> ctx.verify(() -> {
          assertThat(cancelled.getInteger("version")).isEqualTo(2);
          assertThat(cancelled.getString("content")).isNotEmpty().doesNotContain("kept");
          assertThat(cancelled.getJsonArray("versions").getJsonObject(0).getString("content")).isEqualTo("kept");
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a worker that dies mid-regeneration: the lease expires, the sweep re-dispatches, the new version ends exactly once")
  void crashMidRegeneration(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    String[] reply = new String[2];
    start(vertx, dir, null)
        .compose(v -> {
          h.fake().script("crash-regen", FakeAnthropicServer.stream(List.of("one"), 2),
              FakeAnthropicServer.stream(List.of("two"), 2));
          return exchange("crash-regen");
        })
        .compose(pair -> {
          reply[1] = pair.getJsonObject("reply").getString("id");
          reply[0] = messages() + "/" + reply[1];
          // stored without a dispatch, then claimed by a "worker" that dies at once
          return h.store().regenerateReply(userId, session, reply[1], "crash-1", SendLimits.NONE, 20);
        })
        .compose(r -> h.store().claimGeneration(reply[1], "dead-worker", 300))
        .compose(claim -> {
          ctx.verify(() -> assertThat(claim.claimed()).isTrue());
          return api.pollUntil(reply[0], finalVersion(2));
        })
        .compose(done -> vertx.timer(1000).map(done))
        .onComplete(ctx.succeeding(done -> ctx.verify(() -> {
          assertThat(done.getString("status")).isEqualTo("completed");
          assertThat(done.getString("content")).isEqualTo("two");
          assertThat(done.getInteger("attempts")).isEqualTo(3);
          assertThat(done.getInteger("attemptsBase")).isEqualTo(1);
          assertThat(h.finalEvents(reply[1])).containsExactly("message.completed", "message.completed");
          assertThat(h.fake().requestsFor("crash-regen")).hasSize(2);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("feedback is stored on the reply and cleared by DELETE; a regenerate moves it into the earlier version")
  void feedback(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    String[] reply = new String[1];
    JsonObject overrides = new JsonObject().put("messages", new JsonObject().put("feedback_comment_max_chars", 10));
    start(vertx, dir, overrides)
        .compose(v -> exchange("feedback-q"))
        .compose(pair -> {
          reply[0] = messages() + "/" + pair.getJsonObject("reply").getString("id");
          return api.call(HttpMethod.PUT, reply[0] + "/feedback",
              new JsonObject().put("rating", "up").put("comment", "0123456789"));
        })
        .compose(r -> {
          ctx.verify(() -> {
            assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
            assertThat(r.body().getJsonObject("feedback").getString("rating")).isEqualTo("up");
            assertThat(r.body().getJsonObject("feedback").getString("comment")).isEqualTo("0123456789");
          });
          return api.call(HttpMethod.PUT, reply[0] + "/feedback", new JsonObject().put("rating", "up").put("comment", "01234567890"));
        })
        .compose(tooLong -> {
          ctx.verify(() -> {
            assertThat(tooLong.statusCode()).isEqualTo(400);
            assertThat(errorCode(tooLong)).isEqualTo("VALIDATION_FAILED");
          });
          return api.call(HttpMethod.GET, reply[0], null);
        })
        .compose(kept -> {
          ctx.verify(() -> assertThat(kept.body().getJsonObject("feedback").getString("comment")).isEqualTo("0123456789"));
          return api.call(HttpMethod.DELETE, reply[0] + "/feedback", null);
        })
        .compose(cleared -> {
          ctx.verify(() -> {
            assertThat(cleared.statusCode()).isEqualTo(200);
            assertThat(cleared.body().containsKey("feedback")).isFalse();
          });
          return api.call(HttpMethod.PUT, reply[0] + "/feedback", new JsonObject().put("rating", "down"));
        })
        .compose(r -> api.call(HttpMethod.POST, reply[0] + "/regenerate", null))
        .compose(r -> api.pollUntil(reply[0], finalVersion(2)))
        .onComplete(ctx.succeeding(v2 -> ctx.verify(() -> {
          assertThat(v2.containsKey("feedback")).isFalse();
          assertThat(v2.getJsonArray("versions").getJsonObject(0).getJsonObject("feedback").getString("rating"))
              .isEqualTo("down");
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("every wrong target or bad input gets a 4xx with a stable code and changes nothing")
  void badInput(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    JsonObject overrides = new JsonObject().put("messages", new JsonObject().put("max_versions", 2));
    String[] ids = new String[4];
    start(vertx, dir, overrides)
        .compose(v -> exchange("bad-first"))
        .compose(first -> {
          ids[0] = first.getJsonObject("userMessage").getString("id");
          ids[1] = first.getJsonObject("reply").getString("id");
          return exchange("bad-second");
        })
        .compose(second -> {
          ids[2] = second.getJsonObject("userMessage").getString("id");
          ids[3] = second.getJsonObject("reply").getString("id");
          String m = messages() + "/";
          return Future.all(List.of(
              api.call(HttpMethod.POST, m + ids[0] + "/regenerate", null),
              api.call(HttpMethod.POST, m + ids[0] + "/continue", null),
              api.call(HttpMethod.PATCH, m + ids[1], new JsonObject().put("content", "x")),
              api.call(HttpMethod.PATCH, m + ids[0], new JsonObject().put("content", "not the last")),
              api.call(HttpMethod.PUT, m + ids[0] + "/feedback", new JsonObject().put("rating", "up")),
              api.call(HttpMethod.PUT, m + ids[1] + "/feedback", new JsonObject().put("rating", "meh")),
              api.call(HttpMethod.PUT, m + ids[1] + "/feedback", new JsonObject()),
              api.call(HttpMethod.PATCH, m + ids[2], new JsonObject().put("content", "")),
              api.call(HttpMethod.POST, m + ids[1] + "/regenerate", new JsonObject().put("unknown", 1)),
              api.call(HttpMethod.POST, m + ids[3] + "/continue", null)));
        })
        .compose(all -> {
          List<HttpResponse<JsonObject>> r = all.list();
          ctx.verify(() -> {
            assertThat(List.of(r.get(0).statusCode(), errorCode(r.get(0)))).containsExactly(409, "WRONG_MESSAGE_TYPE");
            assertThat(List.of(r.get(1).statusCode(), errorCode(r.get(1)))).containsExactly(409, "WRONG_MESSAGE_TYPE");
            assertThat(List.of(r.get(2).statusCode(), errorCode(r.get(2)))).containsExactly(409, "WRONG_MESSAGE_TYPE");
            assertThat(List.of(r.get(3).statusCode(), errorCode(r.get(3)))).containsExactly(409, "NOT_LAST_MESSAGE");
            assertThat(List.of(r.get(4).statusCode(), errorCode(r.get(4)))).containsExactly(409, "WRONG_MESSAGE_TYPE");
            assertThat(List.of(r.get(5).statusCode(), errorCode(r.get(5)))).containsExactly(400, "VALIDATION_FAILED");
            assertThat(List.of(r.get(6).statusCode(), errorCode(r.get(6)))).containsExactly(400, "VALIDATION_FAILED");
            assertThat(List.of(r.get(7).statusCode(), errorCode(r.get(7)))).containsExactly(400, "VALIDATION_FAILED");
            assertThat(List.of(r.get(8).statusCode(), errorCode(r.get(8)))).containsExactly(400, "VALIDATION_FAILED");
            assertThat(List.of(r.get(9).statusCode(), errorCode(r.get(9)))).containsExactly(409, "NOT_CONTINUABLE");
          });
          // max_versions 2: one regenerate is allowed, the next is refused
          return api.call(HttpMethod.POST, messages() + "/" + ids[3] + "/regenerate", null)
              .compose(ok -> api.pollUntil(messages() + "/" + ids[3], finalVersion(2)))
              .compose(v2 -> api.call(HttpMethod.POST, messages() + "/" + ids[3] + "/regenerate", null));
        })
        .compose(third -> {
          ctx.verify(() -> {
            assertThat(third.statusCode()).isEqualTo(409);
            assertThat(errorCode(third)).isEqualTo("TOO_MANY_VERSIONS");
          });
          return api.call(HttpMethod.GET, messages(), null);
        })
        .onComplete(ctx.succeeding(list -> ctx.verify(() -> {
          JsonArray items = list.body().getJsonArray("items");
          assertThat(items).hasSize(4);
          assertThat(items.getJsonObject(0).getString("content")).isEqualTo("bad-first");
          assertThat(items.getJsonObject(0).getInteger("version")).isEqualTo(1);
          assertThat(items.getJsonObject(1).getInteger("version")).isEqualTo(1);
          assertThat(items.getJsonObject(1).containsKey("feedback")).isFalse();
          assertThat(items.getJsonObject(3).getInteger("version")).isEqualTo(2);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a regenerate counts against the daily quota like a send: past it, 429 QUOTA_EXCEEDED and nothing changes")
  void regenerateRespectsQuota(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    JsonObject overrides = new JsonObject().put("quota", new JsonObject().put("enabled", true)
        .put("daily_messages", new JsonObject().put("free", 2)));
    String[] reply = new String[1];
    start(vertx, dir, overrides)
        .compose(v -> exchange("quota-q"))
        .compose(pair -> {
          reply[0] = messages() + "/" + pair.getJsonObject("reply").getString("id");
          return api.call(HttpMethod.POST, reply[0] + "/regenerate", null);
        })
        .compose(r -> {
          ctx.verify(() -> assertThat(r.statusCode()).isEqualTo(202));
          return api.pollUntil(reply[0], finalVersion(2));
        })
        .compose(v2 -> api.call(HttpMethod.POST, reply[0] + "/regenerate", null))
        .compose(refused -> {
          ctx.verify(() -> {
            assertThat(refused.statusCode()).isEqualTo(429);
            assertThat(errorCode(refused)).isEqualTo("QUOTA_EXCEEDED");
          });
          return api.call(HttpMethod.GET, reply[0], null);
        })
        .onComplete(ctx.succeeding(after -> ctx.verify(() -> {
          assertThat(after.body().getInteger("version")).isEqualTo(2);
          assertThat(after.body().getString("status")).isEqualTo("completed");
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a regenerate takes a pending slot like a send: with the user's cap held by another reply, 429 TOO_MANY_PENDING and nothing changes")
  void regenerateRespectsPendingCap(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    JsonObject overrides = new JsonObject().put("quota", new JsonObject().put("max_pending_replies", 1));
    String[] paths = new String[3];
    start(vertx, dir, overrides)
        .compose(v -> exchange("cap-first"))
        .compose(pair -> {
          paths[0] = messages() + "/" + pair.getJsonObject("reply").getString("id");
          h.fake().script("cap-slow", FakeAnthropicServer.stream(FakeAnthropicServer.words(500), 10));
          return api.call(HttpMethod.POST, messages(), new JsonObject().put("content", "cap-slow"));
        })
        .compose(r -> {
          paths[1] = messages() + "/" + r.body().getJsonObject("reply").getString("id");
          paths[2] = r.body().getJsonObject("reply").getString("id");
          return api.pollUntil(paths[1], m -> m.getString("status").equals("processing"));
        })
        .compose(m -> api.call(HttpMethod.POST, paths[0] + "/regenerate", new JsonObject().put("clientMessageId", "cap-1")))
        .compose(refused -> {
          ctx.verify(() -> {
            assertThat(refused.statusCode()).isEqualTo(429);
            assertThat(errorCode(refused)).isEqualTo("TOO_MANY_PENDING");
          });
          return api.call(HttpMethod.GET, paths[0], null);
        })
        .compose(unchanged -> {
          ctx.verify(() -> {
            assertThat(unchanged.body().getInteger("version")).isEqualTo(1);
            assertThat(unchanged.body().getString("status")).isEqualTo("completed");
          });
          return api.call(HttpMethod.POST, paths[1] + "/cancel", null)
              .compose(c -> api.pollUntil(paths[1], m -> m.getString("status").equals("cancelled")));
        })
        .compose(freed -> api.call(HttpMethod.POST, paths[0] + "/regenerate", new JsonObject().put("clientMessageId", "cap-1")))
        .onComplete(ctx.succeeding(ok -> ctx.verify(() -> {
          assertThat(ok.statusCode()).as(ok.bodyAsString()).isEqualTo(202);
          assertThat(ok.body().getJsonObject("reply").getInteger("version")).isEqualTo(2);
          ctx.completeNow();
        })));
  }
}
