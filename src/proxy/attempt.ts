/**
 * One attempt at one upstream, the sending half: make sure it can be reached, get its
 * credential, send the prepared request with an abort tied to the client and a first-byte
 * timer, classify what came back. A 2xx goes on to answer.ts (the answering half); anything
 * else is a thrown Failure for the retry loop (forward.ts) to judge by the failure table.
 * A failed attempt only cleans up after itself: the call's body stays with the retry loop.
 */
import type { Config } from "../config/schema.ts";
import { Failure } from "../lib/failure.ts";
import type { Logger } from "../lib/log.ts";
import type { Metrics } from "../metrics/catalog.ts";
import type { Credentials } from "../upstream/credentials.ts";
import { TokenError } from "../upstream/entra-token.ts";
import type { Headroom } from "../upstream/headroom.ts";
import type { Reachability } from "../upstream/reachability.ts";
import type { RelayHooks } from "../stream/relay.ts";
import { answer, type Sent } from "./answer.ts";
import type { ProxyCall } from "./call.ts";
import { outcomeOf } from "./failure-table.ts";
import type { InFlight } from "./in-flight.ts";
import { unansweredCharge } from "./metering.ts";
import type { Forwarded } from "./observer.ts";
import { failureFromFetchError, failureFromUpstream } from "./outcome.ts";
import { prepareUpstream, type Target } from "./prepare.ts";

export interface AttemptDeps {
  readonly fetch: typeof globalThis.fetch;
  readonly credentials: Credentials;
  readonly reachability: Reachability;
  readonly config: Pick<Config, "timeouts" | "identity" | "compat">;
  readonly metrics: Metrics;
  readonly inFlight: InFlight;
  readonly log: Logger;
  /** Azure's rate-limit headers are noted here (routing.headroom); absent: not noted. */
  readonly headroom?: Headroom;
}

/** Run when a stream's end is about to reach the client: gives back its stream slot (forward.ts); absent for answers that are no stream. */
export type StreamEnd = RelayHooks["beforeEnd"];

/** `listed`: the call's model is one the proxy lists (a deployment name is then a fit metric label). */
export async function attempt(call: ProxyCall, target: Target, deps: AttemptDeps, listed: boolean, streamEnd?: StreamEnd): Promise<Forwarded> {
  call.observer.attempt(target.upstream.name, target.route?.deployment);
  // a deployment named by the client (any_model) is a label only once Azure has served it
  const deployment = (known: boolean) => (target.route ? (known ? target.route.deployment : "other") : "none");
  try {
    const sent = await send(call, target, deps);
    const forwarded = await answer(call, target, sent, deps, streamEnd);
    // Azure's spillover served it from the deployment it names (upstreams[].spillover)
    const outcome = sent.response.headers.has("x-ms-spillover-from-deployment") ? "spillover" : "ok";
    deps.metrics.attempts.inc({ upstream: target.upstream.name, deployment: deployment(true), outcome });
    return forwarded;
  } catch (error) {
    if (error instanceof Failure && error.kind !== "client_closed") {
      deps.metrics.attempts.inc({ upstream: target.upstream.name, deployment: deployment(listed), outcome: outcomeOf(error) });
    }
    throw error;
  }
}

async function send(call: ProxyCall, target: Target, deps: AttemptDeps): Promise<Sent> {
  const { upstream } = target;
  const { timeouts } = deps.config;
  const probe = deps.reachability.check(upstream.endpoint, timeouts.connect_ms);
  if (probe) {
    try {
      await probe;
    } catch (error) {
      throw failureFromFetchError(error, upstream, call.signal.aborted, null);
    }
  }
  const header = deps.credentials.header(upstream, deps.config.identity);
  const request = prepareUpstream(call, target, header instanceof Promise ? await credential(call, target, header, deps) : header);

  const abort = new AbortController();
  const onClientGone = () => abort.abort();
  call.signal.addEventListener("abort", onClientGone, { once: true });
  if (call.signal.aborted) abort.abort();
  let firstByteTimedOut = false;
  const firstByteTimer = setTimeout(() => {
    firstByteTimedOut = true;
    abort.abort();
  }, timeouts.first_byte_ms);
  // a shutdown's cut: the upstream call is aborted, and a relay already under way is ended too
  // (told through a callback the relay registers, not a second AbortController per stream)
  let endRelay: (() => void) | undefined;
  let wasCut = false;
  const forget = deps.inFlight.add(() => {
    wasCut = true;
    abort.abort();
    endRelay?.();
  });
  const onCut = (end: () => void) => {
    if (wasCut) end();
    else endRelay = end;
  };
  let over = false;
  const done = () => {
    if (over) return;
    over = true;
    clearTimeout(firstByteTimer);
    call.signal.removeEventListener("abort", onClientGone);
    forget();
  };

  try {
    let response: Response;
    try {
      response = await deps.fetch(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        signal: abort.signal,
        redirect: "manual",
        // a streamed upload (spooled multipart) needs half duplex in the fetch standard
        ...(request.body instanceof ReadableStream ? { duplex: "half" } : {}),
      } as RequestInit);
    } catch (error) {
      if (call.signal.aborted) chargeUnanswered(call);
      throw failureFromFetchError(error, upstream, call.signal.aborted, firstByteTimedOut ? { kind: "first_byte", ms: timeouts.first_byte_ms } : null);
    }
    clearTimeout(firstByteTimer);
    deps.reachability.answered(upstream.endpoint);
    // after a 429 its Retry-After (the cooldown) is the exact word, not "0 remaining" for a
    // while; other errors (404 DeploymentNotFound) say nothing of quota
    if (deps.headroom && target.route) {
      if (response.status < 300) deps.headroom.observe(upstream.name, target.route.deployment, response.headers);
      else if (response.status === 429) deps.headroom.forget(upstream.name, target.route.deployment);
    }
    if (response.status >= 300) throw await failureFromUpstream(response, target, call, timeouts.idle_ms);
    return { response, request, abort, cut: onCut, done };
  } catch (error) {
    done();
    throw error;
  }
}

async function credential(
  call: ProxyCall,
  { upstream }: Target,
  header: Promise<readonly [string, string]>,
  deps: AttemptDeps,
): Promise<readonly [string, string]> {
  try {
    return await header;
  } catch (error) {
    // the client learns which upstream and what kind of refusal; Azure's text, with the tenant
    // and application ids in it, goes to the operator's log only
    const summary = error instanceof TokenError ? error.message : "the token request failed";
    deps.log.warn("Entra ID token refused", {
      request_id: call.requestId,
      upstream: upstream.name,
      reason: error instanceof TokenError ? error.detail : String(error),
    });
    throw new Failure("upstream_auth", `could not get an Entra ID token for upstream '${upstream.name}': ${summary}. The proxy's log has Azure's message.`, {
      code: "upstream_auth_failed",
      origin: "token",
    });
  }
}

/** The client left before Azure answered: Azure still had the prompt (metering.ts). */
function chargeUnanswered(call: ProxyCall): void {
  const charge = unansweredCharge(call);
  if (charge) call.observer.tokens(charge, true);
}
