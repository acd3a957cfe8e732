/**
 * Every metric the proxy exports, declared once, with the names and labels dashboards depend on
 * (docs/contract.md). One registry per process; it outlives config reloads. With several
 * worker processes, /metrics answers for all of them (cluster/primary.ts sums the workers'
 * registries; `aggregator` says how a gauge combines when summing would be wrong).
 * Label values that come from clients (model names) are bounded by the caller (see record.ts),
 * so a client sending random model names cannot blow up the series count.
 */
import { Counter, Gauge, Registry } from "./prom-client.ts";
import { FastCounter, FastHistogram } from "./fast-series.ts";
import { MinuteSeries } from "./minute-series.ts";

export interface Metrics {
  readonly registry: Registry;
  /** The Prometheus text /metrics answers with: this process's registry, or every worker's. */
  render(): Promise<string>;
  // the five a request touches: fast-series.ts
  readonly requests: FastCounter<"route" | "model" | "upstream" | "status">;
  readonly duration: FastHistogram<"route" | "model">;
  readonly timeToFirstToken: FastHistogram<"model">;
  readonly attempts: FastCounter<"upstream" | "deployment" | "outcome">;
  readonly tokens: FastCounter<"key" | "model" | "kind">;
  readonly inflightRequests: Gauge;
  readonly inflightStreams: Gauge;
  /** A deployment moved back or passed over when ordering a request's candidates. */
  readonly routingSkips: Counter<"reason">;
  readonly realtimeSessions: Counter<"model" | "upstream" | "outcome">;
  readonly inflightRealtimeSessions: Gauge;
  readonly stateErrors: Counter<"operation">;
  /** The last hour per minute, for the status page (not exported to Prometheus, which keeps its own history). */
  readonly minutes: MinuteSeries;
}

// LLM calls take from milliseconds (embeddings) to minutes (reasoning models)
const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 40, 80, 160, 320, 640];
const TTFT_BUCKETS = [0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60, 120];

/** What the gauges read at scrape time (upstream/health.ts, upstream/headroom.ts), named here so metrics/ needs nothing from upstream/. */
export interface CoolingSource {
  cooling(): Iterable<{ readonly upstream: string; readonly deployment: string | null }>;
}
export interface HeadroomSource {
  current(): Iterable<{ readonly upstream: string; readonly deployment: string; readonly kind: string; readonly value: number }>;
}

export function createMetrics(health: CoolingSource, headroom?: HeadroomSource): Metrics {
  const registry = new Registry();
  const registers = [registry];
  new Gauge({
    name: "azure_proxy_upstream_cooldown",
    help: '1 while an upstream deployment (or, with deployment="*", the whole upstream) is cooling down after a 429, 503 or failure',
    labelNames: ["upstream", "deployment"],
    registers,
    // every worker knows every cooldown: 1, not the worker count
    aggregator: "max",
    collect() {
      this.reset();
      for (const c of health.cooling()) this.set({ upstream: c.upstream, deployment: c.deployment ?? "*" }, 1);
    },
  });
  new Gauge({
    name: "azure_proxy_upstream_headroom",
    help: "What Azure last said remains of a deployment's quota, less what was sent since: requests and tokens (x-ratelimit-remaining-*), or utilization % (provisioned); only while trusted",
    labelNames: ["upstream", "deployment", "kind"],
    registers,
    // each worker steers by its own answers: the least headroom any of them sees
    aggregator: "min",
    collect() {
      this.reset();
      if (headroom) for (const h of headroom.current()) this.set({ upstream: h.upstream, deployment: h.deployment, kind: h.kind }, h.value);
    },
  });
  return {
    registry,
    render: () => registry.metrics(),
    requests: new FastCounter({
      name: "azure_proxy_requests_total",
      help: "Requests answered, by route, model, upstream and HTTP status",
      labelNames: ["route", "model", "upstream", "status"],
      registers,
    }),
    duration: new FastHistogram({
      name: "azure_proxy_request_duration_seconds",
      help: "Time from request to the end of the answer (streams included)",
      labelNames: ["route", "model"],
      buckets: DURATION_BUCKETS,
      registers,
    }),
    timeToFirstToken: new FastHistogram({
      name: "azure_proxy_time_to_first_token_seconds",
      help: "Time from request to the first byte of the answer's body",
      labelNames: ["model"],
      buckets: TTFT_BUCKETS,
      registers,
    }),
    attempts: new FastCounter({
      name: "azure_proxy_upstream_attempts_total",
      help: "Upstream attempts by outcome (ok, spillover: served by Azure's spillover deployment, 429, 5xx, 4xx, timeout, connect_error, auth_error)",
      labelNames: ["upstream", "deployment", "outcome"],
      registers,
    }),
    tokens: new FastCounter({
      name: "azure_proxy_tokens_total",
      help: "Tokens used, from Azure's usage, by client key name, model and kind (prompt, completion)",
      labelNames: ["key", "model", "kind"],
      registers,
    }),
    inflightRequests: new Gauge({ name: "azure_proxy_inflight_requests", help: "Requests being answered now (streams included)", registers }),
    inflightStreams: new Gauge({ name: "azure_proxy_inflight_streams", help: "SSE streams being relayed now", registers }),
    routingSkips: new Counter({
      name: "azure_proxy_routing_skips_total",
      help: "Deployments passed over (cooldown) or moved behind others (headroom: remaining requests or tokens too low; utilization: at or above routing.ptu_spill_at) when ordering a request's candidates",
      labelNames: ["reason"],
      registers,
    }),
    realtimeSessions: new Counter({
      name: "azure_proxy_realtime_sessions_total",
      help: "Realtime WebSocket sessions, counted when they end, by how (refused, or SessionOutcome in src/realtime/session.ts: client_closed, client_lost, upstream_closed, upstream_lost, slow_client, slow_upstream, shutdown)",
      labelNames: ["model", "upstream", "outcome"],
      registers,
    }),
    inflightRealtimeSessions: new Gauge({ name: "azure_proxy_inflight_realtime_sessions", help: "Realtime WebSocket sessions open now", registers }),
    stateErrors: new Counter({
      name: "azure_proxy_state_errors_total",
      help: "Shared-state (Redis) operations that failed or were too slow and were served locally, by operation (admit, stream, write, publish, report)",
      labelNames: ["operation"],
      registers,
    }),
    minutes: new MinuteSeries(),
  };
}
