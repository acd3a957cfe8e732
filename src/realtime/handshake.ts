/**
 * The upstream handshake, with failover: the same candidates, order and cooldowns as HTTP calls
 * (RoutingTable.candidates, Selector.order, Health), tried in turn while no upstream has accepted
 * yet. What a failure means (another try or not, what cools and for how long) is the HTTP
 * calls' one failure table (proxy/failure-table.ts): a 429 or 503 cools its deployment for its
 * Retry-After, an unreachable resource (or one refusing our credential) cools whole, a handshake
 * the resource connected but did not answer in time is a first-byte timeout (that deployment); a
 * 4xx is the client's answer at once.
 * Once an upstream accepted, nothing is retried: the session's frames are not replayable.
 */
import type { Route, RoutingTable } from "../config/resolve.ts";
import type { Config } from "../config/schema.ts";
import { Failure } from "../lib/failure.ts";
import type { Logger } from "../lib/log.ts";
import type { Metrics } from "../metrics/catalog.ts";
import type { ProxyCall } from "../proxy/call.ts";
import { failureFromFetchError, failureFromUpstream } from "../proxy/outcome.ts";
import { exhaustedFailure } from "../proxy/exhausted.ts";
import { cooldownMs, outcomeOf, rowFor } from "../proxy/failure-table.ts";
import { connectWebSocket, HandshakeError, HandshakeRefused, type ClientSocket } from "../runtime/ws-client.ts";
import type { Credentials } from "../upstream/credentials.ts";
import type { Health } from "../upstream/health.ts";
import type { Selector } from "../upstream/select.ts";
import { realtimeHeaders, realtimeUrl } from "./upstream-socket.ts";

export interface FailoverDeps {
  readonly config: Pick<Config, "retry" | "timeouts" | "identity">;
  /** Which models the config names: a client's own name (any_model) is no metric label nor an uncapped cooldown. */
  readonly routing: Pick<RoutingTable, "isListed">;
  readonly health: Health;
  readonly credentials: Credentials;
  readonly selector: Selector;
  readonly metrics: Metrics;
  readonly clock: () => number;
  readonly log: Logger;
}

export interface HandshakeDeps extends FailoverDeps {
  /** Largest message accepted from the upstream. */
  readonly maxMessageBytes: number;
}

export interface Opened {
  readonly socket: ClientSocket;
  readonly route: Route;
  readonly attempts: number;
}

export interface HandshakeCall {
  readonly model: string;
  readonly beta: string | null;
  readonly requestId: string;
  readonly signal: AbortSignal;
}

export function openUpstream(call: HandshakeCall, candidates: readonly Route[], deps: HandshakeDeps): Promise<Opened> {
  return failOver(call, candidates, deps, (route) => dial(call, route, deps)).then(({ value, route, attempts }) => ({ socket: value, route, attempts }));
}

/**
 * Try `attempt` on the candidates in the selector's order, each at most once, while it fails in a
 * way another deployment can fix. Used for the handshake and for minting ephemeral keys.
 */
export async function failOver<T>(
  call: Pick<HandshakeCall, "model" | "requestId">,
  candidates: readonly Route[],
  deps: FailoverDeps,
  attempt: (route: Route) => Promise<T>,
): Promise<{ value: T; route: Route; attempts: number }> {
  const { health, clock, config } = deps;
  const tried = new Set<Route>();
  const told: Promise<void>[] = [];
  let last: Failure | undefined;
  let attempts = 0;
  /** The same deployment again at once, with a fresh Entra ID token (as forward.ts). */
  let again: Route | undefined;
  let tokenRefreshed = false;
  const deadline = clock() + config.retry.max_wait_ms;
  try {
    while (attempts < config.retry.max_attempts) {
      let next = again;
      again = undefined;
      if (!next) {
        const now = clock();
        // retry.max_wait_ms bounds the whole handshake, as forward.ts bounds a call
        if (attempts > 0 && now >= deadline) break;
        const availableAt = (r: Route) => health.availableAt(r.upstream.name, r.deployment);
        const ordered = deps.selector.order(candidates, availableAt, now).filter((r) => !tried.has(r));
        // as forward.ts: when nothing is ready, a deployment cooling only by our guess (a 500) is
        // better than no session (one handshake 500 must not shut a lone deployment for 10 s)
        next = ordered.find((r) => availableAt(r) <= now) ?? ordered.find((r) => health.lastResort(r.upstream.name, r.deployment));
        if (!next) break;
        tried.add(next);
        attempts++;
      }
      try {
        const value = await attempt(next);
        deps.metrics.attempts.inc({ upstream: next.upstream.name, deployment: next.deployment, outcome: "ok" });
        return { value, route: next, attempts };
      } catch (error) {
        if (!(error instanceof Failure)) throw error;
        if (error.kind === "client_closed") throw error;
        // as attempt.ts: a deployment named by the client is a label only once Azure has served it
        deps.metrics.attempts.inc({
          upstream: next.upstream.name,
          deployment: deps.routing.isListed(call.model) ? next.deployment : "other",
          outcome: outcomeOf(error),
        });
        const row = rowFor(error);
        if (!row.retry) throw error;
        last = error;
        // a revoked Entra ID token: one fresh token on the same upstream before anything cools
        if (row.refreshToken && !tokenRefreshed && deps.credentials.dropToken(next.upstream, config.identity)) {
          tokenRefreshed = true;
          again = next;
          continue;
        }
        const telling = coolDown(next, error, deps, !deps.routing.isListed(call.model));
        if (telling) told.push(telling);
        deps.log.warn("realtime upstream attempt failed", {
          request_id: call.requestId,
          upstream: next.upstream.name,
          deployment: next.deployment,
          status: error.detail.status ?? error.kind,
          attempt: attempts,
        });
      }
    }
  } finally {
    // a sibling worker must know of the cooldowns before this client's next try lands there
    if (told.length > 0) await Promise.all(told);
  }
  throw exhaustedFailure(call.model, candidates, last, attempts, deps.health, deps.clock);
}

async function dial(call: HandshakeCall, route: Route, deps: HandshakeDeps): Promise<ClientSocket> {
  let auth: readonly [string, string];
  try {
    auth = await deps.credentials.header(route.upstream, deps.config.identity);
  } catch (error) {
    throw new Failure("upstream_auth", `could not get a credential for upstream '${route.upstream.name}': ${(error as Error).message}`, {
      code: "upstream_auth_failed",
    });
  }
  try {
    return await connectWebSocket(realtimeUrl(route), {
      headers: realtimeHeaders(route, auth, call.beta, call.requestId),
      timeoutMs: deps.config.timeouts.connect_ms,
      maxMessageBytes: deps.maxMessageBytes,
      signal: call.signal,
    });
  } catch (error) {
    if (error instanceof HandshakeRefused) {
      const response = new Response(error.body, { status: error.status, headers: error.headers });
      return Promise.reject(
        await failureFromUpstream(response, { upstream: route.upstream, route }, { model: call.model } as ProxyCall, deps.config.timeouts.idle_ms),
      );
    }
    if (error instanceof HandshakeError && error.code === "ANSWER_TIMEOUT" && !call.signal.aborted) {
      // the resource took the connection: like a first-byte timeout, only this deployment is suspect
      throw new Failure(
        "upstream_timeout",
        `upstream '${route.upstream.name}' answered no Realtime handshake within ${deps.config.timeouts.connect_ms} ms (timeouts.connect_ms)`,
        { code: "upstream_timeout", origin: "first_byte" },
      );
    }
    throw failureFromFetchError(error, route.upstream, call.signal.aborted, null);
  }
}

/** The HTTP calls' failure table (proxy/failure-table.ts) decides what cools, and for how long. */
function coolDown(route: Route, failure: Failure, { health, config }: FailoverDeps, clientNamed: boolean): Promise<void> | undefined {
  const row = rowFor(failure);
  if (row.scope === "none") return undefined;
  const ms = cooldownMs(row, failure, config.retry);
  if (row.scope === "resource") return health.coolDown(route.upstream.name, null, ms, row.soft);
  // a deployment named by the client (any_model) is capped in number (health.ts)
  return health.coolDown(route.upstream.name, route.deployment, ms, row.soft, clientNamed);
}
