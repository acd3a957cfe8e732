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
import type { Logger } from "../lib/log.ts";
import { createMetrics, type Metrics } from "../metrics/catalog.ts";
import { createForwarder } from "../proxy/forward.ts";
import { InFlight } from "../proxy/in-flight.ts";
import { Limiter, type KeyLimits } from "../ratelimit/limiter.ts";
import { withBudgets } from "../state/budget-gate.ts";
import { ledgerEntry } from "../state/ledger-entry.ts";
import { openSpending } from "../state/open-state.ts";
import type { Spending } from "../state/spending.ts";
import type { RunningServer, RuntimeAdapter } from "../runtime/types.ts";
import { Credentials } from "../upstream/credentials.ts";
import { Headroom } from "../upstream/headroom.ts";
import { Health, type TellSiblings } from "../upstream/health.ts";
import { Reachability } from "../upstream/reachability.ts";
import { weightedSelector } from "../upstream/select.ts";
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
  readonly history: ConfigHistory;
  readonly statusPart: () => Promise<StatusPart>;
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
  return buildApp({
    config,
    models: routing.listedModels,
    routing,
    forward,
    metrics: state.metrics,
    health: state.health,
    draining,
    onUsage: (key, usage) => state.limiter.addTokens(key, usage.prompt + usage.completion),
    onFinished: (record) => {
      const entry = ledgerEntry(record, Date.now());
      if (entry) state.spending.record(entry);
    },
    spending: state.spending,
    history: state.history,
    statusPart: state.statusPart,
    log,
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
  /** Every worker's status part, summed by the primary. */
  readonly statusParts: () => Promise<StatusPart>;
}

export async function startProxy(config: Config, runtime: RuntimeAdapter, log: Logger, siblings?: Siblings): Promise<ProxyServer> {
  const health = new Health(Date.now, siblings?.tell);
  // per process: each worker steers by the answers it saw (README, "With several workers")
  const headroom = new Headroom(Date.now);
  const metrics = createMetrics(health, headroom);
  // a worker's ledger is the primary's; a single process keeps its own
  const spending = siblings?.spending ?? (await openSpending(config, log));
  const state: SharedState = {
    health,
    credentials: new Credentials(runtime.upstreamFetch, Date.now),
    reachability: new Reachability(Date.now),
    limiter: withBudgets(siblings?.limits ?? new Limiter(Date.now), spending),
    metrics: siblings ? { ...metrics, render: siblings.renderMetrics } : metrics,
    inFlight: new InFlight(),
    headroom,
    spending,
    history: new ConfigHistory(),
    statusPart: siblings?.statusParts ?? (() => statusPartOf(metrics, headroom)),
  };
  let draining = false;
  const isDraining = () => draining;
  let app = build(config, state, isDraining, runtime, log);
  const server = await runtime.serve({
    hostname: config.server.host,
    port: config.server.port,
    reusePort: siblings !== undefined,
    fetch: (request) => app.fetch(request),
  });
  const inflight = async () => (await state.metrics.inflightRequests.get()).values[0]?.value ?? 0;
  let cutNow = false;
  return {
    server,
    health,
    metrics,
    reload(next) {
      state.spending.configure(next.prices);
      app = build(next, state, isDraining, runtime, log);
      state.history.loaded();
    },
    reloadFailed(issues) {
      state.history.failed(issues);
    },
    statusPart: () => statusPartOf(metrics, headroom),
    async drain(graceMs) {
      draining = true;
      const closing = server.stop(false); // stop accepting; requests in flight go on
      const deadline = Date.now() + graceMs;
      while ((await inflight()) > 0 && Date.now() < deadline && !cutNow) await new Promise((r) => setTimeout(r, 50));
      const cut = await inflight();
      if (cut > 0) {
        // abort what is left ourselves: their relays end with an error event and close, which
        // every runtime's server can finish (Deno's shutdown has no "force")
        state.inFlight.cutAll();
        const until = Date.now() + 2000;
        while ((await inflight()) > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
        await server.stop(true);
      }
      await Promise.race([closing, new Promise((r) => setTimeout(r, 1000))]);
      // every request has finished (or was cut) and recorded its usage: write it all
      await state.spending.close();
      return cut;
    },
    cut() {
      cutNow = true;
    },
  };
}
