/**
 * What the client sees once every attempt failed (HTTP calls, forward.ts, and Realtime
 * handshakes, realtime/handshake.ts): the last meaningful error with the soonest retry-after
 * among the candidates, or, when none could even be tried, a 429 saying they all cool.
 * `x-should-retry: false` once we retried: an SDK retrying too would multiply the load on a
 * struggling Azure.
 */
import type { Route } from "../config/resolve.ts";
import { Failure } from "../lib/failure.ts";
import type { Clock, Health } from "../upstream/health.ts";

export function exhaustedFailure(
  model: string | undefined,
  candidates: readonly Route[],
  last: Failure | undefined,
  attempts: number,
  health: Health,
  clock: Clock,
): Failure {
  const soonest = Math.min(...candidates.map((r) => health.availableAt(r.upstream.name, r.deployment)));
  const now = clock();
  const waitMs = soonest > now ? soonest - now : 0;
  const headers: Record<string, string> = waitMs > 0 ? { "retry-after": String(Math.ceil(waitMs / 1000)), "retry-after-ms": String(Math.ceil(waitMs)) } : {};
  if (attempts > 1) headers["x-should-retry"] = "false";
  if (last) return new Failure(last.kind, last.message, { ...last.detail, headers: { ...last.detail.headers, ...headers } });
  return new Failure("upstream_status", `Every deployment serving '${model}' is cooling down after rate limiting; retry after ${Math.ceil(waitMs / 1000)} s.`, {
    status: 429,
    type: "rate_limit_error",
    code: "upstreams_cooling_down",
    headers,
  });
}
