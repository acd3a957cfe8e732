/**
 * One proxied call, start to finish: check the key may use the model, find the deployments that
 * serve it, and try them in the selector's order (deployments short of headroom moved back),
 * failing over on 429, 5xx, connect failures, timeouts and refused credentials, but only while
 * nothing has gone to the client. What retries and what cools, for how long, is the failure
 * table's call (failure-table.ts). No attempt starts after `retry.max_wait_ms`.
 * Cooling deployments are skipped, never waited for: failover is immediate, and when every
 * deployment is cooling the client gets a 429 with the soonest retry-after at once (a proxy
 * that sleeps holds a connection and a slot for nothing; the client's SDK waits just as well).
 * Only a deployment that just failed with a 5xx is retried
 * after a short backoff, within `max_wait_ms`. When every attempt failed, the client gets the last
 * meaningful error, and `x-should-retry: false` once we retried, so SDKs do not multiply our
 * retries. The call's spooled body is released exactly once.
 */
import type { Route, RoutingTable } from "../config/resolve.ts";
import type { Config } from "../config/schema.ts";
import { Failure } from "../lib/failure.ts";
import type { Logger } from "../lib/log.ts";
import type { Metrics } from "../metrics/catalog.ts";
import type { KeyLimits, ReleaseSlot } from "../ratelimit/limiter.ts";
import type { Credentials } from "../upstream/credentials.ts";
import { moveShortBack, type Headroom } from "../upstream/headroom.ts";
import type { Clock, Health } from "../upstream/health.ts";
import type { Reachability } from "../upstream/reachability.ts";
import type { Selector } from "../upstream/select.ts";
import { attempt, type StreamEnd } from "./attempt.ts";
import type { InFlight } from "./in-flight.ts";
import { disposeBody, type ProxyCall } from "./call.ts";
import { exhaustedFailure } from "./exhausted.ts";
import { cooldownMs, type FailureRow, rowFor } from "./failure-table.ts";
import type { Forwarded } from "./observer.ts";
import { estimateTokens } from "./token-estimate.ts";

export interface ForwardDeps {
  readonly routing: RoutingTable;
  readonly config: Pick<Config, "retry" | "timeouts" | "identity" | "compat" | "routing">;
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
  readonly headroom: Headroom;
}

/** The answer, and a promise of how it ended; the call's stream slot and body are released before that settles. */
export type Forward = (call: ProxyCall) => Promise<Forwarded>;

export function createForwarder(deps: ForwardDeps): Forward {
  const { routing, health, clock, log, headroom } = deps;
  const { retry } = deps.config;
  const steer = deps.config.routing.headroom;
  const ptuSpillAt = deps.config.routing.ptu_spill_at;
  // with headroom off, Azure's headers are not even noted
  const attemptDeps = steer ? deps : { ...deps, headroom: undefined };

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
      throw new Failure("model_not_found", `The model '${model}' does not exist or is not served by this proxy${where}.${known}`, {
        param: "model",
        code: "model_not_found",
      });
    }
    return candidates;
  }

  /** Try the candidates; returns the first success, or throws the failure the client should see. */
  async function failOver(call: ProxyCall, candidates: readonly Route[], listed: boolean, streamEnd: StreamEnd): Promise<Forwarded> {
    const told: Promise<void>[] = [];
    try {
      return await tryInTurn(call, candidates, listed, told, streamEnd);
    } finally {
      // the client's next request may land in another worker process: it must already know
      // of the cooldowns this one caused (only failures pay this wait)
      if (told.length > 0) await Promise.all(told);
    }
  }

  async function tryInTurn(call: ProxyCall, candidates: readonly Route[], listed: boolean, told: Promise<void>[], streamEnd: StreamEnd): Promise<Forwarded> {
    const deadline = clock() + retry.max_wait_ms;
    const tries = new Map<Route, number>();
    // upstreams without the operation: another try there cannot help
    const lacking = new Set<Route>();
    const cooledFor = new Set<FailureRow>();
    let tokenRefreshed = false;
    /** The same deployment again at once, with a fresh Entra ID token. */
    let again: Route | undefined;
    let estimate: number | undefined;
    const estimateOf = (): number => {
      if (estimate === undefined) estimate = estimateTokens(call);
      return estimate;
    };
    // one deployment has nothing to be steered to: no headroom work at all
    const steering = steer && candidates.length > 1;
    let last: Failure | undefined;
    let attempts = 0;
    while (attempts < retry.max_attempts) {
      const now = clock();
      // max_wait_ms bounds the whole request: no attempt, tried or untried deployment, after it
      if (attempts > 0 && now >= deadline) break;
      if (again) {
        const route = again;
        again = undefined;
        try {
          return await attempt(call, { upstream: route.upstream, route }, attemptDeps, listed, streamEnd);
        } catch (error) {
          if (!(error instanceof Failure) || call.signal.aborted) throw error;
          const row = rowFor(error);
          if (!row.retry) throw error;
          last = error;
          const telling = coolDown(route, row, error, call.model!);
          if (telling) told.push(telling);
          continue;
        }
      }
      const availableAt = (r: Route) => health.availableAt(r.upstream.name, r.deployment);
      const ordered = deps.selector.order(candidates, availableAt, now);
      let ready = ordered.filter((r) => availableAt(r) <= now && !lacking.has(r));
      if (attempts === 0 && ready.length < ordered.length) deps.metrics.routingSkips.inc({ reason: "cooldown" }, ordered.length - ready.length);
      if (steering && ready.length > 1) ready = byHeadroom(ready, estimateOf, attempts === 0);
      // untried first (a 500 is often transient, so a tried one may come round again); stable
      ready.sort((a, b) => (tries.get(a) ?? 0) - (tries.get(b) ?? 0));
      // nothing ready: a deployment cooling only by our guess (a 500) is better than no answer
      if (ready.length === 0)
        ready = ordered
          .filter((r) => !lacking.has(r) && health.lastResort(r.upstream.name, r.deployment))
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
      const sentTokens = steering ? estimateOf() : 0;
      if (steering) headroom.sent(next.upstream.name, next.deployment, sentTokens);
      try {
        return await attempt(call, { upstream: next.upstream, route: next }, attemptDeps, listed, streamEnd);
      } catch (error) {
        if (!(error instanceof Failure) || call.signal.aborted) throw error;
        const row = rowFor(error);
        if (!row.retry) throw error;
        last = error;
        if (error.detail.code === "operation_not_available") lacking.add(next);
        log.warn("upstream attempt failed", {
          request_id: call.requestId,
          upstream: next.upstream.name,
          deployment: next.deployment,
          status: error.detail.status ?? error.kind,
          attempt: attempts,
        });
        // a revoked Entra token: one fresh token on the same upstream before anything cools
        if (row.refreshToken && !tokenRefreshed && deps.credentials.dropToken(next.upstream, deps.config.identity)) {
          tokenRefreshed = true;
          again = next;
          continue;
        }
        if (row.firstOnly && cooledFor.has(row)) continue;
        cooledFor.add(row);
        const telling = coolDown(next, row, error, call.model!);
        if (telling) told.push(telling);
      } finally {
        if (steering) headroom.settled(next.upstream.name, next.deployment, sentTokens);
      }
    }
    throw exhaustedFailure(call.model, candidates, last, attempts, health, clock);
  }

  /** Deployments short of headroom go behind the others; skips are counted on a request's first pass. */
  function byHeadroom(ready: Route[], estimateOf: () => number, count: boolean): Route[] {
    const { order, moved } = moveShortBack(ready, (r) =>
      headroom.knows(r.upstream.name, r.deployment) ? headroom.shortOf(r.upstream.name, r.deployment, estimateOf(), ptuSpillAt) : null,
    );
    if (count) for (const reason of moved) deps.metrics.routingSkips.inc({ reason });
    return order;
  }

  function coolDown(route: Route, row: FailureRow, failure: Failure, model: string): Promise<void> | undefined {
    if (row.scope === "none") return undefined;
    const ms = cooldownMs(row, failure, retry);
    if (row.scope === "resource") return health.coolDown(route.upstream.name, null, ms, row.soft);
    // a deployment named by the client (any_model) is capped in number (health.ts)
    return health.coolDown(route.upstream.name, route.deployment, ms, row.soft, !routing.isListed(model));
  }

  return async function forward(call) {
    const listed = call.model !== undefined && routing.isListed(call.model);
    call.observer.begin(call.operation.id, call.model, listed);
    // what the call holds until its answer is over: a stream slot (limits.max_streams), taken
    // before any upstream call, and its body (a spooled upload), kept for retries. The slot is
    // given back when the stream's end is about to reach the client (the relay waits for it),
    // or at the latest when the answer is over.
    let slot: ReleaseSlot | undefined;
    let slotGiven: void | Promise<void>;
    const giveSlot = () => {
      const held = slot;
      slot = undefined;
      if (held) slotGiven = held();
      return slotGiven;
    };
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      void giveSlot();
      disposeBody(call.body);
    };
    try {
      // the in-process limiter answers at once; only the shared one (Redis, workers) is awaited
      const admitted = deps.limiter.admit(call.client);
      if (admitted) await admitted;
      if (call.stream) {
        const opened = deps.limiter.openStream(call.client);
        slot = opened instanceof Promise ? await opened : opened;
      }
      // a stored response or a file lives on one resource: no failover across upstreams
      const streamEnd = slot ? giveSlot : undefined;
      const forwarded = call.operation.routedByModel
        ? await failOver(call, candidatesFor(call), listed, streamEnd)
        : await attempt(call, { upstream: routing.defaultUpstream, route: null }, attemptDeps, false, streamEnd);
      // an answer read whole is over already: released now, and finished without a promise
      if (forwarded.ended === undefined) {
        release();
        return forwarded;
      }
      return { response: forwarded.response, ended: forwarded.ended.finally(release) };
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

/** Before trying the same deployment again: 250 ms, 500 ms, 1 s, ... */
function backoffMs(tries: number): number {
  return Math.min(250 * 2 ** (tries - 1), 4000);
}
