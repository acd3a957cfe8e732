/**
 * One proxied call, start to finish: check the key may use the model, find the deployments that
 * serve it, and try them in the selector's order, failing over on 429, 5xx, connect failures,
 * timeouts and refused credentials, but only while nothing has gone to the client. A 429 or 503
 * cools its (upstream, deployment) for its Retry-After; an unreachable upstream cools whole.
 * Cooling deployments are skipped, never waited for: failover is immediate, and when every
 * deployment is cooling the client gets a 429 with the soonest retry-after at once (the landscape
 * review: "do not sleep on the server"). Only a deployment that just failed with a 5xx is retried
 * after a short backoff, within `max_wait_ms`. When every attempt failed, the client gets the last
 * meaningful error, and `x-should-retry: false` once we retried, so SDKs do not multiply our
 * retries. The call's spooled body is released exactly once.
 */
import type { Route, RoutingTable } from "../config/resolve.ts";
import type { Config } from "../config/schema.ts";
import { Failure } from "../lib/failure.ts";
import type { Logger } from "../lib/log.ts";
import type { Metrics } from "../metrics/catalog.ts";
import type { KeyLimits } from "../ratelimit/limiter.ts";
import type { Credentials } from "../upstream/credentials.ts";
import type { Clock, Health } from "../upstream/health.ts";
import type { Reachability } from "../upstream/reachability.ts";
import type { Selector } from "../upstream/select.ts";
import { attempt } from "./attempt.ts";
import type { InFlight } from "./in-flight.ts";
import { disposeBody, type ProxyCall } from "./call.ts";
import { retryDelayMs } from "./retry-after.ts";

export interface ForwardDeps {
  readonly routing: RoutingTable;
  readonly config: Pick<Config, "retry" | "timeouts" | "identity" | "compat">;
  readonly fetch: typeof globalThis.fetch;
  readonly health: Health;
  readonly credentials: Credentials;
  readonly reachability: Reachability;
  readonly selector: Selector;
  readonly clock: Clock;
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly metrics: Metrics;
  readonly inFlight: InFlight;
  readonly limiter: KeyLimits;
  readonly log: Logger;
}

export type Forward = (call: ProxyCall) => Promise<Response>;

export function createForwarder(deps: ForwardDeps): Forward {
  const { routing, health, clock, log } = deps;
  const { retry } = deps.config;

  function candidatesFor(call: ProxyCall): readonly Route[] {
    const model = call.model!;
    if (call.client.models && !call.client.models.has(model)) {
      throw new Failure("forbidden", `The key '${call.client.name}' may not use the model '${model}'.`, { param: "model", code: "model_not_allowed" });
    }
    const group = routing.hasGroups ? call.group : undefined;
    if (group !== undefined && !routing.groupMembers(group)) {
      throw unknownGroupFailure(group);
    }
    const candidates = routing.candidates(model, group);
    if (candidates.length === 0) {
      const known = routing.listedModels.length > 0 ? ` Available models: ${routing.listedModels.join(", ")}.` : "";
      const where = group === undefined ? "" : ` in the Proxy-src group '${group}'`;
      throw new Failure("model_not_found", `The model '${model}' does not exist or is not served by this proxy${where}.${known}`, { param: "model", code: "model_not_found" });
    }
    return candidates;
  }

  /** Try the candidates; returns the first success, or throws the failure the client should see. */
  async function failOver(call: ProxyCall, candidates: readonly Route[], release: () => void): Promise<Response> {
    const told: Promise<void>[] = [];
    try {
      return await tryInTurn(call, candidates, release, told);
    } finally {
      // the client's next request may land in another worker process: it must already know
      // of the cooldowns this one caused (only failures pay this wait)
      if (told.length > 0) await Promise.all(told);
    }
  }

  async function tryInTurn(call: ProxyCall, candidates: readonly Route[], release: () => void, told: Promise<void>[]): Promise<Response> {
    const deadline = clock() + retry.max_wait_ms;
    const tries = new Map<Route, number>();
    // upstreams without the operation: another try there cannot help
    const lacking = new Set<Route>();
    let last: Failure | undefined;
    let attempts = 0;
    while (attempts < retry.max_attempts) {
      const now = clock();
      const availableAt = (r: Route) => health.availableAt(r.upstream.name, r.deployment);
      // ready ones only, in the selector's order, untried first (a 500 is often transient, so a
      // tried one may come round again)
      const ready = deps.selector
        .order(candidates, availableAt, now)
        .filter((r) => availableAt(r) <= now && !lacking.has(r))
        .sort((a, b) => (tries.get(a) ?? 0) - (tries.get(b) ?? 0));
      const next = ready[0];
      if (!next) break;
      const tried = tries.get(next) ?? 0;
      if (tried > 0) {
        const backoff = backoffMs(tried);
        if (now + backoff > deadline) break;
        await deps.sleep(backoff, call.signal);
        if (call.signal.aborted) throw new Failure("client_closed", "the client closed the request");
      }
      tries.set(next, tried + 1);
      attempts++;
      try {
        return await attempt(call, { upstream: next.upstream, route: next }, deps, release);
      } catch (error) {
        if (!(error instanceof Failure) || !retryable(error) || call.signal.aborted) throw error;
        last = error;
        if (error.detail.code === "operation_not_available") lacking.add(next);
        const telling = coolDown(next, error);
        if (telling) told.push(telling);
        log.warn("upstream attempt failed", {
          request_id: call.requestId,
          upstream: next.upstream.name,
          deployment: next.deployment,
          status: error.detail.status ?? error.kind,
          attempt: attempts,
        });
      }
    }
    throw exhausted(call, candidates, last, attempts);
  }

  function coolDown(route: Route, failure: Failure): Promise<void> | undefined {
    const status = failure.detail.status;
    if (status === 429 || status === 503) {
      return health.coolDown(route.upstream.name, route.deployment, retryDelayMs(failure.detail.headers ?? {}, retry.default_cooldown_ms, retry.max_cooldown_ms));
    } else if (failure.kind === "upstream_unreachable" || failure.kind === "upstream_timeout" || failure.kind === "upstream_auth") {
      return health.coolDown(route.upstream.name, null, retry.default_cooldown_ms);
    }
    return undefined;
  }

  /** The failure the client sees once our retries are spent. */
  function exhausted(call: ProxyCall, candidates: readonly Route[], last: Failure | undefined, attempts: number): Failure {
    const soonest = Math.min(...candidates.map((r) => health.availableAt(r.upstream.name, r.deployment)));
    const waitMs = soonest > clock() ? soonest - clock() : 0;
    const retryHeaders: Record<string, string> = waitMs > 0 ? { "retry-after": String(Math.ceil(waitMs / 1000)), "retry-after-ms": String(Math.ceil(waitMs)) } : {};
    // we retried already: an SDK retrying too would multiply the load on a struggling Azure
    const headers: Record<string, string> = attempts > 1 ? { "x-should-retry": "false" } : {};
    if (last) return new Failure(last.kind, last.message, { ...last.detail, headers: { ...last.detail.headers, ...retryHeaders, ...headers } });
    return new Failure(
      "upstream_status",
      `Every deployment serving '${call.model}' is cooling down after rate limiting; retry after ${Math.ceil(waitMs / 1000)} s.`,
      { status: 429, type: "rate_limit_error", code: "upstreams_cooling_down", headers: { ...retryHeaders, ...headers } },
    );
  }

  return async function forward(call) {
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      disposeBody(call.body);
    };
    const { record } = call;
    record.route = call.operation.id;
    record.model = call.model;
    record.modelKnown = call.model !== undefined && routing.isListed(call.model);
    try {
      await deps.limiter.admit(call.client);
      // a stream slot (limits.max_streams) is held before any upstream call, until the answer ends
      if (call.stream) record.onFinish(await deps.limiter.openStream(call.client));
      if (!call.operation.routedByModel) {
        // a stored response or a file lives on one resource: no failover across upstreams
        return await attempt(call, { upstream: routing.defaultUpstream, route: null }, deps, release);
      }
      return await failOver(call, candidatesFor(call), release);
    } catch (error) {
      release();
      throw error;
    }
  };
}

/** An unknown `Proxy-src` group; the other groups are not named, since they are the operator's business. */
export function unknownGroupFailure(group: string): Failure {
  return new Failure("invalid_request", `Unknown Proxy-src group '${group.slice(0, 100)}'.`, { code: "unknown_group" });
}

/** What failing over can fix: rate limits, server errors, an unreachable or misconfigured resource. */
function retryable(failure: Failure): boolean {
  if (failure.kind === "upstream_status") return failure.detail.status === 429 || (failure.detail.status ?? 0) >= 500;
  return failure.kind === "upstream_unreachable" || failure.kind === "upstream_timeout" || failure.kind === "upstream_auth" || failure.detail.code === "operation_not_available";
}

/** Before trying the same deployment again: 250 ms, 500 ms, 1 s, ... */
function backoffMs(tries: number): number {
  return Math.min(250 * 2 ** (tries - 1), 4000);
}
