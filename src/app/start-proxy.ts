/**
 * The composition root. Runtime state that must outlive a config reload (cooldowns, cached
 * Entra tokens, reachability, rate-limit windows, metrics, the draining flag) is made once;
 * everything derived from the config (routing table, forwarder, HTTP app) is rebuilt on reload
 * and swapped in whole, so a request in flight finishes on the config it started with and a new
 * one sees only the new config.
 */
import { buildRoutingTable } from "../config/resolve.ts";
import type { Config } from "../config/schema.ts";
import { buildApp, type App } from "../http/app.ts";
import { RequestActivity } from "../http/request-activity.ts";
import { failureResponse, statusOf } from "../http/errors.ts";
import { ephemeralKeys } from "../realtime/ephemeral-keys.ts";
import { createRealtimeGateway } from "../realtime/gateway.ts";
import { realtimeHttp } from "../realtime/http-service.ts";
import type { Logger } from "../lib/log.ts";
import { createMetrics, type Metrics } from "../metrics/catalog.ts";
import { createForwarder } from "../proxy/forward.ts";
import { InFlight } from "../proxy/in-flight.ts";
import { Limiter, type KeyLimits } from "../ratelimit/limiter.ts";
import { withBudgets } from "../state/budget-gate.ts";
import { openOwners, openRedisState, openSpending } from "../state/open-state.ts";
import { withOwnership } from "../state/ownership/gate.ts";
import type { Owners } from "../state/ownership/owners.ts";
import type { Spending } from "../state/spending.ts";
import type { RunningServer, RuntimeAdapter } from "../runtime/types.ts";
import { Credentials } from "../upstream/credentials.ts";
import { Headroom } from "../upstream/headroom.ts";
import { Health, type TellSiblings } from "../upstream/health.ts";
import type { Counter } from "prom-client";
import { Reachability } from "../upstream/reachability.ts";
import { weightedSelector } from "../upstream/select.ts";
import { readTlsFiles } from "./tls-files.ts";
import { releaseStartupMemory } from "./release-startup-memory.ts";
import { ConfigHistory } from "../status/config-history.ts";
import { statusPartOf, type StatusPart } from "../status/status-part.ts";

export interface ProxyServer {
  readonly server: RunningServer;
  readonly health: Health;
  readonly metrics: Metrics;
  /** Serve new requests with `config` from now on (listen address changes need a restart). */
  reload(config: Config): void;
  /** A reload was refused (the file was invalid): the status page says so. */
  reloadFailed(issues: readonly string[]): void;
  /** What this process adds to /admin/status (a worker's answer to its primary). */
  statusPart(): Promise<StatusPart>;
  /**
   * Stop taking requests (/readyz turns 503), let those in flight (streams included) finish for
   * up to `graceMs`, then close what is left. Resolves with how many were cut.
   */
  drain(graceMs: number): Promise<number>;
  /** End a drain now (a second stop signal): what is still in flight is cut. */
  cut(): void;
}

interface SharedState {
  readonly health: Health;
  readonly credentials: Credentials;
  readonly reachability: Reachability;
  readonly limiter: KeyLimits;
  readonly metrics: Metrics;
  readonly inFlight: InFlight;
  readonly headroom: Headroom;
  readonly spending: Spending;
  /** Who created which object; absent: ownership is not kept (no state, or no client keys). */
  readonly owners: Owners | undefined;
  readonly history: ConfigHistory;
  readonly statusPart: () => Promise<StatusPart>;
  readonly activity: RequestActivity;
}

export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

function build(config: Config, state: SharedState, draining: () => boolean, runtime: RuntimeAdapter, log: Logger): App {
  const routing = buildRoutingTable(config);
  const upgrades = createRealtimeGateway({ config, routing, ...state, selector: weightedSelector(), log, failureResponse, statusOf });
  const realtimeCalls = realtimeHttp({
    config,
    routing,
    ...state,
    selector: weightedSelector(),
    clock: Date.now,
    log,
    fetch: runtime.upstreamFetch,
    keys: ephemeralKeys(config),
  });
  const forward = createForwarder({
    routing,
    config,
    fetch: runtime.upstreamFetch,
    ...state,
    selector: weightedSelector(),
    clock: Date.now,
    sleep: sleepUnlessAborted,
    log,
  });
  // ownership needs client keys; an open proxy (--insecure-no-auth) has no one to tell apart
  const owned = state.owners && !config.auth.insecure_no_auth ? withOwnership(forward, state.owners) : forward;
  return buildApp({
    config,
    models: routing.listedModels,
    routing,
    forward: owned,
    metrics: state.metrics,
    health: state.health,
    draining,
    limiter: state.limiter,
    spending: state.spending,
    history: state.history,
    statusPart: state.statusPart,
    log,
    realtime: realtimeCalls,
    upgrades,
    activity: state.activity,
  });
}

/**
 * A worker process's ties to its siblings (cluster/worker.ts): cooldowns are told to them, limits
 * are counted in the primary, /metrics sums every worker. Entra tokens and reachability stay per
 * process: two workers each holding a valid token, or each probing once, cannot disagree.
 */
export interface Siblings {
  readonly tell: TellSiblings;
  readonly limits: KeyLimits;
  readonly renderMetrics: () => Promise<string>;
  /** The usage ledger and budgets, kept by the primary. */
  readonly spending: Spending;
  /** Object ownership (with a state file), kept by the primary. */
  readonly owners: Owners;
  /** Every worker's status part, summed by the primary. */
  readonly statusParts: () => Promise<StatusPart>;
}

export async function startProxy(config: Config, runtime: RuntimeAdapter, log: Logger, siblings?: Siblings): Promise<ProxyServer> {
  // the cooldown bus exists before Health, which tells it; Redis's errors are counted in metrics
  // made after Health: the counter is looked up late
  let metrics: Metrics | undefined;
  const redis =
    config.state.redis === undefined
      ? undefined
      : await openRedisState(
          config,
          log,
          lateCounter(() => metrics!.stateErrors),
        );
  if (redis && config.state.path !== undefined) log.warn("state.path is not used with state.redis: usage and budgets live in Redis");
  const tell: TellSiblings | undefined = redis
    ? (cooldown) => Promise.all([siblings?.tell(cooldown), redis.bus.publish(cooldown)]).then(() => {})
    : siblings?.tell;
  const health = new Health(Date.now, tell);
  // per process: each worker steers by the answers it saw (README, "With several workers")
  const headroom = new Headroom(Date.now);
  metrics = createMetrics(health, headroom);
  if (redis) await redis.bus.listen((cooldown) => health.coolUntil(cooldown));
  // with Redis every process (each worker too) talks to it; else a worker's ledger is the
  // primary's, and a single process keeps its own
  const spending: Spending = redis?.state ?? siblings?.spending ?? (await openSpending(config, log));
  // ownership is kept only where it outlives the process: in Redis, or in the state file
  const ownFile = siblings ? undefined : await openOwners(config);
  const owners: Owners | undefined = redis?.owners ?? (config.state.path !== undefined ? (siblings?.owners ?? ownFile) : undefined);
  const state: SharedState = {
    health,
    credentials: new Credentials(runtime.upstreamFetch, Date.now),
    reachability: new Reachability(Date.now),
    // Redis checks limits and budgets in one round trip; otherwise budgets go before the limiter
    limiter: redis ? redis.state : withBudgets(siblings?.limits ?? new Limiter(Date.now), spending),
    metrics: siblings ? { ...metrics, render: siblings.renderMetrics } : metrics,
    inFlight: new InFlight(),
    headroom,
    spending,
    owners,
    history: new ConfigHistory(),
    statusPart: siblings?.statusParts ?? (() => statusPartOf(metrics, headroom)),
    activity: new RequestActivity(),
  };
  let draining = false;
  const isDraining = () => draining;
  let built = build(config, state, isDraining, runtime, log);
  const tls = readTlsFiles(config.server.tls);
  const server = await runtime.serve({
    hostname: config.server.host,
    port: config.server.port,
    reusePort: siblings !== undefined,
    socketIdleSeconds: config.realtime.ping_s,
    tls,
    // a Realtime upgrade is answered before the HTTP app's routes (http/app.ts, realtime/gateway.ts)
    fetch: tls
      ? // the HTTP app finds the path from the 8th character on (http/app.ts, standardHostname):
        // an https:// URL is handed to it as http://, body, headers and signal as they are
        (request, upgrade) => built.upgrade(request, upgrade) ?? built.fetch(new Request(`http${request.url.slice(5)}`, request))
      : (request, upgrade) => built.upgrade(request, upgrade) ?? built.fetch(request),
  });
  // idle: no request but probes started, and no upstream call or Realtime session still open
  const scheduleRelease = () => releaseStartupMemory(runtime, { started: () => state.activity.started, inFlight: () => state.inFlight.size }, log);
  let cancelRelease = scheduleRelease();
  const inflight = async () => (await state.metrics.inflightRequests.get()).values[0]?.value ?? 0;
  let cutNow = false;
  /** Read the files again (a renewed certificate); a bad file keeps the running one. */
  const reloadCertificate = (tls: NonNullable<Config["server"]["tls"]>) => {
    let material: ReturnType<typeof readTlsFiles>;
    try {
      material = readTlsFiles(tls)!;
    } catch (error) {
      log.error("certificate not reloaded; the running one stays", { error: (error as Error).message });
      return;
    }
    server.reloadTls(material).then(
      () => log.info("certificate reloaded", { cert_file: tls.cert_file }),
      (error) => log.error("certificate not reloaded", { cert_file: tls.cert_file, error: String(error) }),
    );
  };
  return {
    server,
    health,
    metrics,
    reload(next) {
      state.spending.configure(next.prices);
      built = build(next, state, isDraining, runtime, log);
      // what the build before made is garbage now: the wait for an idle process starts over
      cancelRelease();
      if (!draining) cancelRelease = scheduleRelease();
      if (next.server.tls) reloadCertificate(next.server.tls);
      state.history.loaded();
    },
    reloadFailed(issues) {
      state.history.failed(issues);
    },
    statusPart: () => statusPartOf(metrics, headroom),
    async drain(graceMs) {
      draining = true;
      cancelRelease();
      const closing = server.stop(false); // stop accepting; requests in flight go on
      const deadline = Date.now() + graceMs;
      while ((await inflight()) > 0 && Date.now() < deadline && !cutNow) await new Promise((r) => setTimeout(r, 50));
      const cut = await inflight();
      if (cut > 0) {
        // abort what is left ourselves: their relays end with an error event and close, which
        // every runtime's server can finish (Deno's shutdown has no "force")
        for (const error of state.inFlight.cutAll()) log.error("a call could not be cut at the grace end", { error: String(error) });
        const until = Date.now() + 2000;
        while ((await inflight()) > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
        await server.stop(true);
      }
      await Promise.race([closing, new Promise((r) => setTimeout(r, 1000))]);
      // every request has finished (or was cut) and recorded its usage: write it all
      await state.spending.close();
      redis?.bus.close();
      ownFile?.close();
      return cut;
    },
    cut() {
      cutNow = true;
    },
  };
}

/** A counter that exists only later: the metrics are made after the state that counts into them. */
function lateCounter(counter: () => Counter<"operation">): Counter<"operation"> {
  return { inc: (...args: Parameters<Counter<"operation">["inc"]>) => counter().inc(...args) } as Counter<"operation">;
}
