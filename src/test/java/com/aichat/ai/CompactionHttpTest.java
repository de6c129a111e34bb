package com.aichat.ai;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.ai.FakeAnthropicServer.Recorded;
import com.aichat.ai.context.ContextBuilder;
import com.aichat.ai.provider.ClaudeClient;
import com.aichat.contract.Addresses;
import com.aichat.contract.ChatMessage.ContextInfo;
import com.aichat.contract.ChatMessage.Usage;
import com.aichat.contract.ErrorCode;
import com.aichat.contract.SessionEvent;
import com.aichat.contract.SessionJobKind;
import com.aichat.contract.SessionJobState;
import com.aichat.contract.SessionSummary;
import com.aichat.jobs.SessionJobHandler.Attempt;
import com.aichat.jobs.summary.SummaryJobHandler;
import com.aichat.persistence.Generations.Completion;
import com.aichat.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(VertxExtension.class)
@DisplayName("Compaction end to end: a long session is summarised by the durable summary job and replies carry the summary")
class CompactionHttpTest {

  private static final int BUDGET = 3000;
  private static final int MAX_TURNS = 40;

  private GenerationHarness h;
  private UserHttp api;
  private String user;
  private String token;
  private final List<SessionSummary> summaryEvents = new ArrayList<>();

  private Future<Void> start(Vertx vertx, Path dir, JsonObject extra) {
    user = TestTokens.newUserId();
    token = TestTokens.token(vertx, user);
    JsonObject overrides = new JsonObject()
        .put("context", new JsonObject().put("max_turns", MAX_TURNS).put("token_budget", BUDGET)
            .put("compaction", new JsonObject().put("max_tokens", 500).put("max_chunk_messages", 200)));
    overrides.mergeIn(extra, true);
    vertx.eventBus().<JsonObject>consumer(Addresses.EVENTS_SESSION, m -> {
      SessionEvent e = SessionEvent.fromJson(m.body());
      if (e.session() != null && e.session().summary() != null) {
        synchronized (summaryEvents) {
          summaryEvents.add(e.session().summary());
        }
      }
    });
    return GenerationHarness.start(vertx, dir, overrides).map(started -> {
      h = started;
      api = new UserHttp(vertx, h, token);
      h.fake().simulateCache(true);
      return null;
    });
  }

  @AfterEach
  void stop(VertxTestContext ctx) {
    if (api != null) {
      api.close();
    }
    (h == null ? Future.<Void>succeededFuture() : h.close()).onComplete(ctx.succeedingThenComplete());
  }

  /** Asks over HTTP and waits for the completed reply (its JSON from GET). */
  private Future<JsonObject> ask(Vertx vertx, String sid, String text) {
    return api.post("/chats/" + sid + "/messages", new JsonObject().put("content", text))
        .compose(r -> api.pollUntil("/chats/" + sid + "/messages/" + r.body().getJsonObject("reply").getString("id"),
            m -> m.getString("status").equals("completed")));
  }

  /** {@code count} completed history messages, user and ai_report alternating, through the store API. */
  private Future<Void> seed(String sid, int count) {
    Future<Void> chain = Future.succeededFuture();
    for (int i = 0; i < count / 2; i++) {
      int n = i;
      chain = chain
          .compose(v -> h.store().sendMessage(user, sid, pad("seeded question " + n), null))
          .compose(r -> h.store().claimGeneration(r.reply().id(), "seeder", 60_000))
          .compose(c -> h.store().completeGeneration(c.message().id(), "seeder",
              new Completion(pad("seeded answer " + n), "seed", new Usage(1, 1), "end_turn", new ContextInfo(0, 0))))
          .mapEmpty();
    }
    return chain;
  }

  /** 200 characters: 50 estimated tokens. */
  private static String pad(String s) {
    return (s + " " + "lorem ipsum ".repeat(20)).substring(0, 200);
  }

  /** The session once its summary stopped changing: the version equals the summary requests made, three polls in a row. */
  private Future<SessionSummary> settledSummary(Vertx vertx, String sid) {
    Promise<SessionSummary> p = Promise.promise();
    AtomicInteger stable = new AtomicInteger();
    long[] lastVersion = {-1};
    vertx.setPeriodic(300, t -> api.get("/chats/" + sid).onSuccess(r -> {
      JsonObject s = r.body().getJsonObject("summary");
      long v = s == null ? -1 : s.getLong("version");
      boolean settled = s != null && v == h.fake().summaryRequests().size() && h.fake().inFlight() == 0 && v == lastVersion[0];
      lastVersion[0] = v;
      if (settled && stable.incrementAndGet() >= 3) {
        vertx.cancelTimer(t);
        p.tryComplete(SessionSummary.fromJson(s));
      } else if (!settled) {
        stable.set(0);
      }
    }));
    return p.future();
  }

  private static long estimate(String text) {
    return (text.length() + 3) / 4;
  }

  @Test
  @Timeout(value = 180, timeUnit = TimeUnit.SECONDS)
  @DisplayName("a 500-turn session: the job summarises the backlog in chunks; each request stays under token_budget, carries the current summary, and keeps its cached system prefix byte-identical")
  void fiveHundredTurnSession(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    String[] sid = new String[1];
    SessionSummary[] summary = new SessionSummary[1];
    List<JsonObject> replies = new ArrayList<>();
    start(vertx, dir, new JsonObject())
        .compose(v -> api.post("/chats", new JsonObject().put("title", "long")))
        .compose(r -> {
          sid[0] = r.body().getString("id");
          return seed(sid[0], 500);
        })
        .compose(v -> ask(vertx, sid[0], "the first question after 500 turns"))
        .compose(first -> {
          ctx.verify(() -> {
            JsonObject c = first.getJsonObject("context");
            assertThat(c.containsKey("summaryVersion")).isFalse();
            assertThat(c.getInteger("messagesUsed")).isLessThanOrEqualTo(MAX_TURNS);
            assertThat(c.getInteger("messagesDroppedUncovered")).isPositive();
          });
          return settledSummary(vertx, sid[0]);
        })
        .compose(s -> {
          summary[0] = s;
          ctx.verify(() -> {
            // 500+ messages in chunks of at most 200: at least three runs, one version each
            assertThat(s.version()).isGreaterThanOrEqualTo(3).isEqualTo(h.fake().summaryRequests().size());
            long lines = h.fake().summaryRequests().stream()
                .mapToLong(r -> r.lastUserText().lines().filter(l -> l.startsWith("User:") || l.startsWith("Assistant:")).count())
                .sum();
            assertThat(s.messagesCovered()).isEqualTo(lines).isGreaterThan(450);
            assertThat(s.text()).startsWith("Fake summary:");
            assertThat(s.model()).isEqualTo(FakeAnthropicServer.MODEL);
            // every run after the first folded the previous summary in
            assertThat(h.fake().summaryRequests().get(1).lastUserText()).contains("<previous-summary>");
            synchronized (summaryEvents) {
              assertThat(summaryEvents.stream().filter(e -> e.version() == s.version()).count()).isEqualTo(1);
            }
          });
          Future<Void> chain = Future.succeededFuture();
          for (int i = 2; i <= 4; i++) {
            int n = i;
            chain = chain.compose(v -> ask(vertx, sid[0], "follow-up number " + n)).map(reply -> {
              replies.add(reply);
              return null;
            });
          }
          return chain;
        })
        .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
          SessionSummary s = summary[0];
          assertThat(h.fake().summaryRequests()).hasSize((int) s.version());
          List<Recorded> sent = h.fake().replyRequests();
          List<Recorded> last3 = sent.subList(sent.size() - 3, sent.size());
          String prefix = FakeAnthropicServer.cachedSystemPrefix(last3.get(0).body());
          assertThat(prefix).contains(s.text()).contains("cache_control");
          for (int i = 0; i < 3; i++) {
            JsonObject body = last3.get(i).body();
            JsonArray system = body.getJsonArray("system");
            assertThat(system).hasSize(2);
            assertThat(system.getJsonObject(0).getString("text")).isEqualTo("You are a test assistant.");
            assertThat(system.getJsonObject(1).getString("text")).isEqualTo(ContextBuilder.summaryBlock(s));
            assertThat(system.getJsonObject(1).getJsonObject("cache_control").getString("type")).isEqualTo("ephemeral");
            assertThat(FakeAnthropicServer.cachedSystemPrefix(body)).isEqualTo(prefix);
            JsonArray messages = body.getJsonArray("messages");
            assertThat(messages.size()).isLessThanOrEqualTo(MAX_TURNS + 1);
            long history = estimate(ContextBuilder.summaryBlock(s));
            for (int m = 0; m < messages.size() - 1; m++) {
              history += estimate(Recorded.textOf(messages.getJsonObject(m)));
            }
            assertThat(history).isLessThanOrEqualTo(BUDGET);
            assertThat(messages.getJsonObject(0).getString("role")).isEqualTo("user");
            JsonObject c = replies.get(i).getJsonObject("context");
            assertThat(c.getLong("summaryVersion")).isEqualTo(s.version());
            assertThat(c.getLong("messagesSummarized")).isEqualTo(s.messagesCovered());
            assertThat(c.getInteger("messagesDroppedUncovered")).isZero();
            assertThat(c.getLong("actualInputTokens")).isEqualTo(h.fake().usageOf(last3.get(i)).total());
            assertThat(c.getLong("cacheReadTokens")).isEqualTo(h.fake().usageOf(last3.get(i)).cacheReadTokens());
            assertThat(c.getLong("cacheWriteTokens")).isEqualTo(h.fake().usageOf(last3.get(i)).cacheWriteTokens());
            if (i > 0) {
              // the unchanged summary prefix (and the history before the last breakpoint) is read from the cache
              assertThat(c.getLong("cacheReadTokens")).isGreaterThanOrEqualTo(estimate(ContextBuilder.summaryBlock(s)));
            }
          }
          // the window after the summary grows by appending: each reply's history extends the previous one's
          JsonArray a = last3.get(1).body().getJsonArray("messages");
          JsonArray b = last3.get(2).body().getJsonArray("messages");
          assertThat(Recorded.textOf(b.getJsonObject(0))).isEqualTo(Recorded.textOf(a.getJsonObject(0)));
          ctx.completeNow();
        })));
  }

  @Test
  @Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
  @DisplayName("a worker that dies mid-summary (its lease expires) is taken over: the summary advances exactly once, and the dead worker's late write is refused")
  void workerDiesMidSummary(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    JsonObject extra = new JsonObject()
        .put("verticles", new JsonObject().put("worker", 0))
        .put("session_jobs", new JsonObject().put("lease_ms", 1000).put("backoff_initial_ms", 10).put("backoff_max_ms", 50));
    String[] sid = new String[1];
    Attempt[] doomed = new Attempt[1];
    ClaudeClient[] doomedClient = new ClaudeClient[1];
    start(vertx, dir, extra)
        .compose(v -> api.post("/chats", new JsonObject().put("title", "crash")))
        .compose(r -> {
          sid[0] = r.body().getString("id");
          return seed(sid[0], 80);
        })
        .compose(v -> {
          h.fake().summaryScenario(new FakeAnthropicServer.Hang());
          return h.store().enqueueSessionJob(sid[0], SessionJobKind.SUMMARY);
        })
        .compose(created -> {
          ctx.verify(() -> assertThat(created).isTrue());
          // the doomed worker: claims, starts the summary request, and dies while it is in flight
          return h.store().claimSessionJob(sid[0], SessionJobKind.SUMMARY, "doomed-worker", 1000);
        })
        .compose(claim -> {
          ctx.verify(() -> assertThat(claim.claimed()).isTrue());
          doomedClient[0] = new ClaudeClient(vertx, h.app().config().providers().claude());
          var w = h.app().config().worker();
          doomed[0] = new SummaryJobHandler(h.store(), doomedClient[0],
              new ContextBuilder(w.maxTurns(), w.tokenBudget(), w.charsPerToken(), w.compaction()))
              .start(claim.session(), claim.job());
          Promise<Void> inFlight = Promise.promise();
          vertx.setPeriodic(20, t -> {
            if (h.fake().summaryRequests().size() == 1) {
              vertx.cancelTimer(t);
              inFlight.complete();
            }
          });
          return inFlight.future();
        })
        .compose(v -> {
          // a live worker joins; the sweep hands it the job once the dead worker's lease expired
          h.fake().summaryScenario(null);
          var cfg = h.app().config();
          return vertx.deployVerticle(new AiWorkerVerticle(cfg.worker(), cfg.providers(), cfg.limits(), cfg.sessionJobs(), cfg.titles()));
        })
        .compose(id -> api.pollUntil("/chats/" + sid[0], s -> s.containsKey("summary")))
        .compose(s -> {
          ctx.verify(() -> {
            assertThat(s.getJsonObject("summary").getLong("version")).isEqualTo(1);
            assertThat(h.fake().summaryRequests()).hasSize(2);
          });
          // the dead worker comes back with its result: refused, nothing changes
          JsonObject stale = new JsonObject().put("expectedVersion", 0).put("text", "stale summary")
              .put("coversThroughMessageId", s.getJsonObject("summary").getString("coversThroughMessageId"))
              .put("coversThroughCreatedAt", s.getJsonObject("summary").getString("coversThroughCreatedAt"))
              .put("messagesCovered", 1).put("model", "x").put("more", false);
          return h.store().completeSessionJob(sid[0], SessionJobKind.SUMMARY, "doomed-worker", stale)
              .map(end -> "applied")
              .otherwise(err -> ErrorCode.fromThrowable(err).name());
        })
        .compose(outcome -> {
          ctx.verify(() -> assertThat(outcome).isEqualTo("CONFLICT"));
          doomed[0].abort();
          Promise<Void> wait = Promise.promise();
          vertx.setTimer(1500, t -> wait.complete());
          return wait.future();
        })
        .compose(v -> api.get("/chats/" + sid[0]))
        .compose(r -> h.store().claimSessionJob(sid[0], SessionJobKind.SUMMARY, "probe", 1000).map(c -> new Object[] {r.body(), c}))
        .onComplete(ctx.succeeding(both -> ctx.verify(() -> {
          JsonObject session = (JsonObject) both[0];
          var probe = (com.aichat.persistence.ChatStore.SessionJobClaim) both[1];
          SessionSummary s = SessionSummary.fromJson(session.getJsonObject("summary"));
          assertThat(s.version()).isEqualTo(1);
          assertThat(s.text()).startsWith("Fake summary:").doesNotContain("stale");
          assertThat(h.fake().summaryRequests()).hasSize(2);
          synchronized (summaryEvents) {
            assertThat(summaryEvents).hasSize(1);
          }
          assertThat(probe.claimed()).isFalse();
          assertThat(probe.job().status()).isEqualTo(SessionJobState.COMPLETED);
          assertThat(probe.job().attempts()).isEqualTo(2);
          doomedClient[0].close();
          ctx.completeNow();
        })));
  }

  @Test
  @Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
  @DisplayName("with the offline model the summary is written locally and deterministically, and the next reply is given it")
  void offlineSummary(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    JsonObject offline = new JsonObject().put("ai", new JsonObject().put("provider", "offline"));
    String[] sid = new String[1];
    start(vertx, dir, offline)
        .compose(v -> api.post("/chats", new JsonObject().put("title", "offline")))
        .compose(r -> {
          sid[0] = r.body().getString("id");
          return seed(sid[0], 100);
        })
        .compose(v -> ask(vertx, sid[0], "offline question one"))
        .compose(v -> api.pollUntil("/chats/" + sid[0], s -> s.containsKey("summary")))
        .compose(s -> {
          SessionSummary summary = SessionSummary.fromJson(s.getJsonObject("summary"));
          ctx.verify(() -> {
            assertThat(summary.model()).isEqualTo(com.aichat.ai.provider.OfflineModel.MODEL);
            assertThat(summary.text()).startsWith("[Offline summary by offline-echo-1, written locally and deterministically: "
                + summary.messagesCovered() + " messages folded in so far.]");
            assertThat(summary.text()).contains("- The user said: \"seeded question");
            assertThat(h.fake().requests()).isEmpty();
          });
          // the same chunk and previous summary always give the same text
          var w = h.app().config().worker();
          ContextBuilder b = new ContextBuilder(w.maxTurns(), w.tokenBudget(), w.charsPerToken(), w.compaction());
          return h.store().loadHistoryRange(sid[0], null, null, summary.coversThroughCreatedAt(), summary.coversThroughMessageId(), 1000, false)
              .map(covered -> {
                List<com.aichat.contract.ChatMessage> all = new ArrayList<>(covered);
                return new Object[] {summary, all};
              });
        })
        .compose(both -> ask(vertx, sid[0], "offline question two").map(reply -> new Object[] {both[0], both[1], reply}))
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          SessionSummary summary = (SessionSummary) all[0];
          @SuppressWarnings("unchecked")
          List<com.aichat.contract.ChatMessage> covered = (List<com.aichat.contract.ChatMessage>) all[1];
          JsonObject reply = (JsonObject) all[2];
          // covered = everything up to and including the last covered message (exclusive bound + that message)
          assertThat(covered.size() + 1L).isEqualTo(summary.messagesCovered());
          if (summary.version() == 1) {
            var w = h.app().config().worker();
            List<com.aichat.contract.ChatMessage> chunk = new ArrayList<>(covered);
            h.store().getMessage(user, sid[0], summary.coversThroughMessageId()).onSuccess(last -> {
              chunk.add(last);
              String again = com.aichat.ai.provider.OfflineModel.composeSummary(
                  com.aichat.ai.context.SummaryRequest.of(w.compaction(), null, chunk));
              ctx.verify(() -> assertThat(again).isEqualTo(summary.text()));
              ctx.completeNow();
            }).onFailure(ctx::failNow);
          }
          JsonObject c = reply.getJsonObject("context");
          assertThat(c.getLong("summaryVersion")).isEqualTo(summary.version());
          assertThat(reply.getString("model")).isEqualTo("offline-echo-1");
          if (summary.version() != 1) {
            ctx.completeNow();
          }
        })));
  }
}
