package com.aichat.ai;

import com.aichat.ai.provider.ProviderSettings;
import com.aichat.ai.context.ContextBuilder;
import com.aichat.ai.provider.ClaudeClient;
import com.aichat.ai.provider.ModelProvider;
import com.aichat.ai.provider.OfflineModel;
import com.aichat.contract.Addresses;
import com.aichat.contract.ErrorCode;
import com.aichat.contract.GenerateRequest;
import com.aichat.contract.GenerationOutcome;
import com.aichat.contract.LeaseOwners;
import com.aichat.limits.ClusterLimits;
import com.aichat.limits.LimitsSettings;
import com.aichat.contract.SessionJobKind;
import com.aichat.config.ConfigReader;
import com.aichat.jobs.SessionJobHandler;
import com.aichat.jobs.SessionJobRunner;
import com.aichat.jobs.SessionJobSettings;
import com.aichat.jobs.title.TitleJobHandler;
import com.aichat.jobs.summary.SummaryJobHandler;
import com.aichat.jobs.title.TitleSettings;
import java.util.EnumMap;
import com.aichat.logging.ReplyLog;
import com.aichat.metrics.Metrics;
import com.aichat.ops.NodeLifecycle;
import com.aichat.persistence.Conversations;
import com.aichat.persistence.Generations;
import com.aichat.persistence.Jobs;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The AI worker: consumes {@link Addresses#AI_GENERATE} jobs ({@link GenerateRequest}), answers at once
 * ({@link GenerateRequest.Answer}) and runs each accepted job as a {@link GenerationJob}; when the job
 * ends it sends a {@link GenerationOutcome} to the request's {@code outcomeAddress}, if any. Listens to
 * {@link Addresses#AI_CANCEL} and stops the stream of a reply it holds.
 *
 * <p>Limits per instance: {@code worker.max_concurrent} jobs (as {@link WorkerSettings} resolves it: by
 * default the heap-derived node limit split across the instances), {@code worker.max_per_user} per user. A
 * job over a limit is answered {@code busy} (or {@code user_busy}) and nothing is written, so the reply
 * stays {@code pending} and the dispatcher keeps it queued. The reply's user travels with the job
 * (the request's {@code userId}, which the local dispatcher sends from the send's dispatch request), so
 * the per-user cap is checked before the claim; for a job without it (the recovery sweep's, a Cloud
 * Tasks task) it checks after the claim and, over the cap, releases the reply back to {@code pending}.
 * The worker does not listen to {@code chat.events.message}.
 *
 * <p>Besides {@link Addresses#AI_GENERATE} it consumes its own {@link Addresses#aiWorker} address, and
 * it publishes its free slots (that resolved limit minus the jobs it holds, whether streaming or still
 * waiting for a provider connection) on {@link Addresses#AI_CAPACITY} when it starts, when asked on
 * {@link Addresses#AI_CAPACITY_QUERY} and whenever a job ends, which is what the local dispatcher's
 * credit counting runs on.
 *
 * <p>On a clustered node with {@code limits.scope: cluster}, {@code worker.max_per_user} holds for the
 * whole cluster: besides its own count, the instance takes a slot for the reply in
 * {@link ClusterLimits} (one entry processor) before it accepts a job, renews its slots every third of
 * {@code worker.lease_ms} and gives them back when the job ends; a dead worker's slots lapse with its
 * leases. If the cluster does not answer, the instance's own count decides (fail-open to the
 * per-instance cap).
 *
 * <p>Each instance has its own worker id ({@code nodeId/deploymentID-random}, see {@link LeaseOwners}),
 * the lease owner in the store; its node part lets a dispatcher end the leases of a node that left the
 * cluster.
 */
public final class AiWorkerVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(AiWorkerVerticle.class);

  /** How long {@link #stop()} waits for running jobs to hand their replies back. */
  private static final long STOP_GRACE_MS = 3000;

  /** How often a busy instance logs its load (jobs on the wire, jobs waiting for a connection). */
  private static final long LOAD_LOG_INTERVAL_MS = 10_000;

  private final WorkerSettings settings;
  private final ProviderSettings providers;
  private final LimitsSettings limits;
  /** The cluster-wide slots, or null when the cap is counted by this instance alone. */
  private ClusterLimits cluster;
  /** Jobs accepted locally whose cluster-wide slot is being asked for: counted as running. */
  private final Set<String> starting = new HashSet<>();
  private final SessionJobSettings sessionJobs;
  private final TitleSettings titles;
  private SessionJobRunner jobRunner;

  private String workerId;
  private NodeLifecycle life;
  private Metrics metrics;
  private ModelProvider provider;
  private GenerationJob.Runtime runtime;
  /** The store's session jobs: the runner's, and the summary job this worker's replies ask for. */
  private Jobs jobStore;
  private final Map<String, GenerationJob> jobs = new HashMap<>();
  private final Map<String, Future<GenerationOutcome>> running = new HashMap<>();
  private final Map<String, String> userOfJob = new HashMap<>();
  private final Map<String, Integer> jobsPerUser = new HashMap<>();
  /** With the default {@code session_jobs.*} and {@code titles.*}. */
  public AiWorkerVerticle(WorkerSettings settings, ProviderSettings providers) {
    this(settings, providers, LimitsSettings.defaults(), SessionJobSettings.from(new ConfigReader(null, "session_jobs")),
        TitleSettings.from(new ConfigReader(null, "titles")));
  }

  public AiWorkerVerticle(WorkerSettings settings, ProviderSettings providers, LimitsSettings limits,
      SessionJobSettings sessionJobs, TitleSettings titles) {
    this.settings = settings;
    this.providers = providers;
    this.limits = limits;
    this.sessionJobs = sessionJobs;
    this.titles = titles;
  }

  /** The session job kinds this worker runs, each with its handler (docs/generation.md, "Session jobs"). */
  private Map<SessionJobKind, SessionJobHandler> sessionJobHandlers(Conversations conversations, Jobs jobs) {
    Map<SessionJobKind, SessionJobHandler> handlers = new EnumMap<>(SessionJobKind.class);
    if (titles.enabled()) {
      handlers.put(SessionJobKind.TITLE, new TitleJobHandler(conversations, provider, titles));
    }
    if (settings.compaction().enabled()) {
      handlers.put(SessionJobKind.SUMMARY, new SummaryJobHandler(jobs, provider, runtime.contextBuilder()));
    }
    return handlers;
  }

  @Override
  public Future<?> start() {
    workerId = LeaseOwners.newWorkerId(vertx, deploymentID(), ThreadLocalRandom.current().nextLong());
    life = NodeLifecycle.of(vertx);
    metrics = Metrics.of(vertx);
    provider = providers.useClaude()
        ? new ClaudeClient(vertx, providers.claude())
        : new OfflineModel(vertx, providers.offline());
    Conversations conversations = Conversations.client(vertx);
    jobStore = Jobs.client(vertx);
    runtime = new GenerationJob.Runtime(
        vertx,
        Generations.client(vertx),
        conversations,
        provider,
        new ContextBuilder(settings.maxTurns(), settings.tokenBudget(), settings.charsPerToken(), settings.compaction()),
        settings,
        providers.useClaude() ? providers.claude().systemPrompt() : "",
        workerId,
        this::holdUserSlot,
        this::summaryNeeded);
    jobRunner = new SessionJobRunner(vertx, jobStore, workerId, sessionJobs,
        sessionJobHandlers(conversations, jobStore), life::draining);
    return ClusterLimits.of(vertx, limits)
        .compose(c -> {
          cluster = c;
          return consume();
        })
        .onSuccess(v -> {
          logLimits();
          vertx.setPeriodic(LOAD_LOG_INTERVAL_MS, t -> logLoad());
          if (cluster != null) {
            vertx.setPeriodic(Math.max(100, settings.leaseMs() / 3), t -> renewClusterSlots());
          }
          announceCapacity(null);
        });
  }

  private Future<?> consume() {
    return Future.all(
            vertx.eventBus().<JsonObject>consumer(Addresses.AI_GENERATE, this::handleGenerate).completion(),
            vertx.eventBus().<JsonObject>consumer(Addresses.aiWorker(workerId), this::handleGenerate).completion(),
            vertx.eventBus().<JsonObject>consumer(Addresses.AI_CAPACITY_QUERY, m -> announceCapacity(null)).completion(),
            vertx.eventBus().<JsonObject>consumer(Addresses.AI_CANCEL, this::handleCancel).completion(),
            vertx.eventBus().<JsonObject>localConsumer(Addresses.NODE_DRAINING, m -> onDraining()).completion())
        .compose(v -> jobRunner.start());
  }

  private void logLimits() {
    log.info("AI worker {} started: provider {}, {} jobs max ({} per node, heap {} MB), {} per user {}",
        workerId, providers.useClaude() ? "claude" : OfflineModel.MODEL, settings.maxConcurrent(),
        settings.maxConcurrentPerNode(), java.lang.Runtime.getRuntime().maxMemory() >> 20, settings.maxPerUser(),
        cluster != null ? "in the cluster" : "on this instance");
    if (providers.useClaude() && providers.claude().maxConnections() < settings.maxConcurrent()) {
      log.warn("AI worker {}: claude.max_connections ({}) is below worker.max_concurrent ({}); jobs beyond it "
              + "wait for a connection (their provider timeouts start once they have one)",
          workerId, providers.claude().maxConnections(), settings.maxConcurrent());
    }
  }

  /** Load of a busy instance: how many jobs are streaming and how many wait for a provider connection. */
  private void logLoad() {
    if (jobs.isEmpty()) {
      return;
    }
    long waiting = jobs.values().stream().filter(GenerationJob::waitingForConnection).count();
    log.info("AI worker {}: {} jobs of {}, {} waiting for a provider connection", workerId, jobs.size(),
        settings.maxConcurrent(), waiting);
  }

  @Override
  public Future<?> stop() {
    List<Future<GenerationOutcome>> ends = new ArrayList<>(running.values());
    jobs.values().forEach(job -> job.requestStop(GenerationJob.StopReason.SHUTDOWN));
    Promise<Void> done = Promise.promise();
    long timer = vertx.setTimer(STOP_GRACE_MS, t -> done.tryComplete());
    Future.join(ends).onComplete(ar -> {
      vertx.cancelTimer(timer);
      done.tryComplete();
    });
    Future<Void> jobsStopped = jobRunner == null ? Future.succeededFuture() : jobRunner.stop();
    return Future.join(done.future(), jobsStopped).compose(v -> provider.close());
  }

  /**
   * The node drains: take no new jobs and announce no free slots. Running jobs go on; those still
   * running when the drain undeploys this instance are handed back by {@link #stop()}.
   */
  private void onDraining() {
    log.info("AI worker {}: node draining; {} jobs running, no new ones taken", workerId, jobs.size());
    announceCapacity(null);
  }

  private void handleGenerate(Message<JsonObject> msg) {
    GenerateRequest request = msg.body() == null ? null : GenerateRequest.fromJson(msg.body());
    if (request == null || request.messageId() == null || request.messageId().isBlank()) {
      msg.fail(ErrorCode.VALIDATION_FAILED.failureCode(), "messageId is required");
      return;
    }
    String id = request.messageId();
    if (jobs.containsKey(id) || starting.contains(id)) {
      // a duplicate dispatch of a job this instance already runs
      msg.reply(answer(true, null));
      sendOutcome(request, new GenerationOutcome(id, GenerationOutcome.NOT_CLAIMED, "processing", null));
      return;
    }
    String owner = request.userId();
    String refusal = jobs.size() + starting.size() >= settings.maxConcurrent() || life.draining()
        ? GenerateRequest.Answer.BUSY
        : owner != null && !acquireUserSlot(id, owner) ? GenerateRequest.Answer.USER_BUSY : null;
    if (refusal != null) {
      refuse(msg, request, refusal);
      return;
    }
    if (owner == null || cluster == null) {
      startJob(msg, request);
      return;
    }
    starting.add(id);
    clusterSlot(id, owner).onComplete(ar -> {
      starting.remove(id);
      if (ar.succeeded() && ar.result()) {
        startJob(msg, request);
      } else {
        releaseLocalSlot(id);
        refuse(msg, request, GenerateRequest.Answer.USER_BUSY);
      }
    });
  }

  private void refuse(Message<JsonObject> msg, GenerateRequest request, String refusal) {
    String id = request.messageId();
    new ReplyLog(log, id).debug("reply {}: {} ({} jobs running)", id, refusal, jobs.size());
    msg.reply(answer(false, refusal));
    sendOutcome(request, new GenerationOutcome(id, GenerationOutcome.BUSY, null, null));
  }

  private void startJob(Message<JsonObject> msg, GenerateRequest request) {
    String id = request.messageId();
    GenerationJob job = new GenerationJob(runtime, request);
    jobs.put(id, job);
    life.jobStarted();
    metrics.streamStarted();
    msg.reply(answer(true, null));
    Future<GenerationOutcome> end = job.run();
    running.put(id, end);
    end.onSuccess(outcome -> {
      jobs.remove(id);
      life.jobEnded();
      metrics.streamEnded();
      running.remove(id);
      releaseUserSlot(id);
      sendOutcome(request, outcome);
      announceCapacity(id);
    });
  }

  /**
   * The immediate answer, with this instance's address, free slots and per-user cap, so a dispatcher
   * can count its slots and estimate how fast a capped user's backlog drains.
   */
  private JsonObject answer(boolean accepted, String reason) {
    return new GenerateRequest.Answer(accepted, reason, workerId, Addresses.aiWorker(workerId),
        freeSlots(), settings.maxConcurrent(), settings.maxPerUser()).toJson();
  }

  /** Free slots: none while the node drains, so dispatchers offer this instance nothing more. */
  private int freeSlots() {
    return life.draining() ? 0 : Math.max(0, settings.maxConcurrent() - jobs.size() - starting.size());
  }

  private void handleCancel(Message<JsonObject> msg) {
    String id = msg.body() == null ? null : msg.body().getString("messageId");
    GenerationJob job = id == null ? null : jobs.get(id);
    if (job != null) {
      job.requestStop(GenerationJob.StopReason.CANCEL);
    }
  }

  /**
   * A reply's context asked for a newer summary of its session (docs/context.md): enqueues the
   * session's summary job unless one is pending or running. Never fails; a job not enqueued is asked
   * for again by the next reply.
   */
  private Future<Void> summaryNeeded(String sessionId) {
    return jobStore.enqueueSessionJob(sessionId, SessionJobKind.SUMMARY)
        .onSuccess(created -> log.debug("session {}: summary job {}", sessionId, created ? "enqueued" : "already pending"))
        .<Void>mapEmpty()
        .recover(err -> {
          log.warn("session {}: summary job not enqueued: {}", sessionId, err.toString());
          return Future.succeededFuture();
        });
  }

  /** Called by a job once its claim names the user: true when the job holds a slot for that user. */
  private Future<Boolean> holdUserSlot(String messageId, String userId) {
    String held = userOfJob.get(messageId);
    if (userId.equals(held)) {
      return Future.succeededFuture(true);
    }
    releaseUserSlot(messageId);
    if (!acquireUserSlot(messageId, userId)) {
      return Future.succeededFuture(false);
    }
    return clusterSlot(messageId, userId).map(ok -> {
      if (!ok) {
        releaseLocalSlot(messageId);
      }
      return ok;
    });
  }

  /**
   * The reply's cluster-wide slot (true without asking when the cap is counted here alone). Never
   * fails: when the cluster does not answer, the instance's own count (already taken) decides.
   */
  private Future<Boolean> clusterSlot(String messageId, String userId) {
    if (cluster == null) {
      return Future.succeededFuture(true);
    }
    return cluster
        .acquireSlot(userId, messageId, workerId, settings.maxPerUser(), System.currentTimeMillis(), settings.leaseMs())
        .recover(err -> {
          cluster.fellBack("generation", err);
          return Future.succeededFuture(true);
        });
  }

  /**
   * Renews the cluster-wide slot of every job this instance holds (also taking one for a job that
   * started while the cluster did not answer). A job whose user has meanwhile filled the cap elsewhere
   * keeps running; that is logged.
   */
  private void renewClusterSlots() {
    long now = System.currentTimeMillis();
    Map<String, String> renewing = new HashMap<>(userOfJob);
    renewing.keySet().removeAll(starting); // their first request is on its way; a renewal could outlive a refusal
    renewing.forEach((messageId, userId) -> cluster
        .acquireSlot(userId, messageId, workerId, settings.maxPerUser(), now, settings.leaseMs())
        .onSuccess(held -> {
          if (!held && userOfJob.containsKey(messageId)) {
            new ReplyLog(log, messageId).warn("reply {}: user {} holds worker.max_per_user slots elsewhere in the "
                + "cluster; this running job keeps going without one", messageId, userId);
          }
        })
        .onFailure(err -> cluster.fellBack("generation", err)));
  }

  private boolean acquireUserSlot(String messageId, String userId) {
    int count = jobsPerUser.getOrDefault(userId, 0);
    if (count >= settings.maxPerUser()) {
      return false;
    }
    jobsPerUser.put(userId, count + 1);
    userOfJob.put(messageId, userId);
    return true;
  }

  /** Gives back the job's slot here and, when counted there, in the cluster. */
  private void releaseUserSlot(String messageId) {
    String userId = releaseLocalSlot(messageId);
    if (userId != null && cluster != null) {
      cluster.releaseSlot(userId, messageId, workerId, System.currentTimeMillis())
          .onFailure(err -> new ReplyLog(log, messageId).debug("reply {}: cluster slot not released now ({}); "
              + "it lapses after worker.lease_ms", messageId, err.toString()));
    }
  }

  /** Gives back the job's slot in this instance's count; answers the user it was held for, or null. */
  private String releaseLocalSlot(String messageId) {
    String userId = userOfJob.remove(messageId);
    if (userId != null) {
      jobsPerUser.computeIfPresent(userId, (u, n) -> n <= 1 ? null : n - 1);
    }
    return userId;
  }

  /**
   * Tells local dispatchers how many slots this instance has free (at start, on a query, and when the
   * job {@code endedJob} ended), so they offer exactly that many waiting jobs, and its per-user cap, so
   * they can estimate the wait of a user held back by it.
   */
  private void announceCapacity(String endedJob) {
    JsonObject capacity = new JsonObject()
        .put("workerId", workerId)
        .put("address", Addresses.aiWorker(workerId))
        .put("free", freeSlots())
        .put("max", settings.maxConcurrent())
        .put("maxPerUser", settings.maxPerUser());
    vertx.eventBus().publish(Addresses.AI_CAPACITY, endedJob == null ? capacity : capacity.put("messageId", endedJob));
  }

  private void sendOutcome(GenerateRequest request, GenerationOutcome outcome) {
    if (request.outcomeAddress() != null) {
      vertx.eventBus().send(request.outcomeAddress(), outcome.toJson());
    }
  }
}
