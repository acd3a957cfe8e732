/**
 * What one process contributes to GET /admin/status: what it has in flight, its per-minute
 * counts and the headroom it last saw. With `serve --workers N` every worker sends its part to
 * the primary (cluster/status-sum.ts), which adds them up the way /metrics is summed; alone, a
 * process's own part is the whole. Plain JSON, so it crosses the IPC channel as it is.
 */
import type { Metrics } from "../metrics/catalog.ts";
import { sumCounts, type MinuteCounts } from "../metrics/minute-series.ts";
import type { Headroom, HeadroomSeen } from "../upstream/headroom.ts";

/** The gauge the Realtime relay keeps (CONTRACT: azure_proxy_inflight_realtime_sessions). */
export const REALTIME_GAUGE = "azure_proxy_inflight_realtime_sessions";

export interface StatusPart {
  /** How many processes this part sums (1 for one process). */
  readonly workers: number;
  readonly inflight: { readonly requests: number; readonly streams: number; readonly realtime_sessions: number };
  readonly minutes: MinuteCounts;
  readonly headroom: readonly HeadroomSeen[];
}

/** Sessions in flight, however the Realtime relay counts them. */
export type RealtimeSessions = () => number | Promise<number>;

/**
 * The default count: the realtime gauge of this registry when some module declared it, else 0.
 * Looked up at each read, so the relay may register its gauge after start.
 */
export function realtimeFromGauge(metrics: Metrics): RealtimeSessions {
  return () => gaugeValue(metrics, REALTIME_GAUGE);
}

export async function statusPartOf(metrics: Metrics, headroom: Headroom, realtime: RealtimeSessions = realtimeFromGauge(metrics)): Promise<StatusPart> {
  const [requests, streams, realtimeSessions] = await Promise.all([
    gaugeValue(metrics, "azure_proxy_inflight_requests"),
    gaugeValue(metrics, "azure_proxy_inflight_streams"),
    realtime(),
  ]);
  return {
    workers: 1,
    inflight: { requests, streams, realtime_sessions: realtimeSessions },
    minutes: metrics.minutes.counts(),
    headroom: headroom.latest(),
  };
}

/** Parts of several workers as one: counts added; for headroom, the newest word on each deployment. */
export function sumParts(parts: readonly StatusPart[]): StatusPart {
  const newest = new Map<string, HeadroomSeen>();
  for (const part of parts) {
    for (const seen of part.headroom) {
      const key = `${seen.upstream}/${seen.deployment}`;
      const held = newest.get(key);
      if (!held || held.at < seen.at) newest.set(key, seen);
    }
  }
  const add = (pick: (p: StatusPart["inflight"]) => number) => parts.reduce((n, p) => n + pick(p.inflight), 0);
  return {
    workers: parts.reduce((n, p) => n + p.workers, 0),
    inflight: { requests: add((i) => i.requests), streams: add((i) => i.streams), realtime_sessions: add((i) => i.realtime_sessions) },
    minutes: sumCounts(parts.map((p) => p.minutes)),
    headroom: [...newest.values()],
  };
}

async function gaugeValue(metrics: Metrics, name: string): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  let sum = 0;
  for (const v of values) sum += v.value;
  return sum;
}
