/**
 * One attempt at one upstream: make sure it can be reached, get its credential, send the
 * prepared request with an abort tied to the client and a first-byte timer, classify the
 * answer. A success comes back as a Response whose body relays Azure's (with the idle timer);
 * anything else is a thrown Failure for the retry loop to judge.
 */
import type { Config } from "../config/schema.ts";
import { Failure } from "../lib/failure.ts";
import { keptUpstreamHeaders } from "../lib/headers.ts";
import type { Logger } from "../lib/log.ts";
import type { Metrics } from "../metrics/catalog.ts";
import { streamTransform } from "../stream/fixups.ts";
import { relayBody, relaySse, type RelayEnd } from "../stream/relay.ts";
import { Tail, usageIn } from "../stream/usage.ts";
import { promptOnly, StreamedText } from "../stream/usage-estimate.ts";
import type { Credentials } from "../upstream/credentials.ts";
import { TokenError } from "../upstream/entra-token.ts";
import type { Headroom } from "../upstream/headroom.ts";
import type { Reachability } from "../upstream/reachability.ts";
import type { ProxyCall } from "./call.ts";
import type { InFlight } from "./in-flight.ts";
import { CHAT_COMPLETIONS, COMPLETIONS, RESPONSES } from "./operations.ts";
import { outcomeOf } from "./failure-table.ts";
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

/** Answers up to this size, with a Content-Length, are read whole instead of streamed. */
const WHOLE_BODY_MAX = 1024 * 1024;
const decoder = new TextDecoder();

/**
 * `onRelayEnd` runs once when a relayed answer's body ends (however it ends). A failed attempt
 * only cleans up after itself: the call's body stays with the retry loop for the next attempt.
 */
export async function attempt(call: ProxyCall, target: Target, deps: AttemptDeps, onRelayEnd: () => void): Promise<Response> {
  const { record } = call;
  record.attempts++;
  record.upstream = target.upstream.name;
  record.deployment = target.route?.deployment;
  // a deployment named by the client (any_model) is a label only once Azure has served it
  const deployment = (known: boolean) => (target.route ? (known ? target.route.deployment : "other") : "none");
  try {
    const response = await send(call, target, deps, onRelayEnd);
    // Azure's spillover served it from the deployment it names (upstreams[].spillover)
    const outcome = response.headers.has("x-ms-spillover-from-deployment") ? "spillover" : "ok";
    deps.metrics.attempts.inc({ upstream: target.upstream.name, deployment: deployment(true), outcome });
    return response;
  } catch (error) {
    if (error instanceof Failure && error.kind !== "client_closed") {
      deps.metrics.attempts.inc({ upstream: target.upstream.name, deployment: deployment(record.modelKnown), outcome: outcomeOf(error) });
    }
    throw error;
  }
}

async function send(call: ProxyCall, target: Target, deps: AttemptDeps, onRelayEnd: () => void): Promise<Response> {
  const { upstream } = target;
  const { timeouts } = deps.config;
  try {
    await deps.reachability.check(upstream.endpoint, timeouts.connect_ms);
  } catch (error) {
    throw failureFromFetchError(error, upstream, call.signal.aborted, null);
  }
  let auth: readonly [string, string];
  try {
    auth = await deps.credentials.header(upstream, deps.config.identity);
  } catch (error) {
    // the client learns which upstream and what kind of refusal; Azure's text, with the tenant
    // and application ids in it, goes to the operator's log only
    const summary = error instanceof TokenError ? error.message : "the token request failed";
    deps.log.warn("Entra ID token refused", { request_id: call.requestId, upstream: upstream.name, reason: error instanceof TokenError ? error.detail : String(error) });
    throw new Failure("upstream_auth", `could not get an Entra ID token for upstream '${upstream.name}': ${summary}. The proxy's log has Azure's message.`, {
      code: "upstream_auth_failed",
      origin: "token",
    });
  }
  const request = prepareUpstream(call, target, auth);

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
  const cut = new AbortController();
  const forget = deps.inFlight.add(() => {
    abort.abort();
    cut.abort();
  });
  const cleanUp = () => {
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
    const { record } = call;
    record.modelKnown = true; // Azure served it: a real model, fit for a metric label
    if (!response.body) {
      cleanUp();
      onRelayEnd();
      return new Response(null, { status: response.status, headers: keptUpstreamHeaders(response.headers) });
    }

    const headers = keptUpstreamHeaders(response.headers);
    const contentType = response.headers.get("content-type") ?? "";
    const isSse = contentType.startsWith("text/event-stream");
    const length = Number(response.headers.get("content-length") ?? Number.NaN);
    if (!isSse && length <= WHOLE_BODY_MAX) {
      // A small answer of known length (most JSON) is read whole and sent as bytes: no JS
      // stream around it, 12-15 µs less per request under load (bench/profile.ts). Nothing has
      // reached the client yet.
      let idle = false;
      const timer = setTimeout(() => {
        idle = true;
        abort.abort();
      }, timeouts.idle_ms);
      let bytes: ArrayBuffer;
      try {
        bytes = await response.arrayBuffer();
      } catch (error) {
      if (call.signal.aborted) chargeUnanswered(call);
        throw failureFromFetchError(error, upstream, call.signal.aborted, idle ? { kind: "idle", ms: timeouts.idle_ms } : null);
      } finally {
        clearTimeout(timer);
      }
      record.firstByte();
      if (contentType.includes("json")) record.usage = usageIn(decoder.decode(new Uint8Array(bytes, Math.max(0, bytes.byteLength - 16_384))));
      if (call.operation === RESPONSES) chargeUnanswered(call);
      cleanUp();
      onRelayEnd();
      return new Response(bytes, { status: response.status, headers });
    }
    // usage sits at the end of a JSON body; binary answers (speech) are not decoded
    const tail = contentType.includes("json") ? new Tail() : undefined;
    const status = response.status;
    // for a stream whose usage never comes (old API version, an early end): see usage-estimate.ts
    const streamed = isSse ? new StreamedText(call.body.kind === "json" ? call.body.text.length : 0, !request.usageReported) : undefined;
    record.relayed = true;
    if (isSse) record.startStream();
    const hooks = {
      abortUpstream: () => abort.abort(),
      onFirstChunk: () => record.firstByte(),
      onEnd: (end: RelayEnd, error?: unknown) => {
        cleanUp();
        onRelayEnd();
        if (tail && end === "complete") record.usage = usageIn(tail.value);
        if (!isSse && (end === "client_closed" || call.operation === RESPONSES)) chargeUnanswered(call);
        if (streamed && record.usage === undefined) {
          record.usage = streamed.usage;
          record.usageEstimated = true;
        }
        record.finish(status, end);
        if (end !== "complete" && end !== "client_closed") {
          deps.log.warn("upstream stream ended early", { request_id: call.requestId, upstream: upstream.name, end, error: errorName(error) });
        }
      },
    };
    if (isSse) {
      headers.set("cache-control", "no-cache");
      // nginx and other buffering proxies must pass each event on as it comes
      headers.set("x-accel-buffering", "no");
    }
    const transform = isSse
      ? streamTransform({
          dropAnnotationsWithout: fixupField(call, deps.config.compat.stream_fixups),
          onUsage: (usage) => (record.usage = usage),
          usageInjected: request.usageInjected,
          text: streamed,
        })
      : undefined;
    const body = isSse
      ? relaySse(response.body, hooks, {
          upstreamName: upstream.name,
          end: call.operation.streamEnd,
          transform,
          idleMs: timeouts.idle_ms,
          // Azure-shaped clients get Azure's stream exactly as it is
          heartbeatMs: call.shape === "openai" ? deps.config.compat.heartbeat_ms : 0,
          cut: cut.signal,
        })
      : relayBody(response.body, hooks, timeouts.idle_ms, tail, cut.signal);
    return new Response(body, { status, headers });
  } catch (error) {
    cleanUp();
    throw error;
  }
}

/**
 * Azure's usage for a prompt it had will not come with this answer: the client left before it
 * (Azure still works on the prompt, and bills it), or a Responses answer has none yet (a
 * `background: true` response is answered "queued", `usage: null`). Without a charge, a key
 * could spend past its tpm by never waiting for answers. A stream is charged by what it
 * streamed instead (usage-estimate.ts). No-op when Azure's usage is there.
 */
function chargeUnanswered(call: ProxyCall): void {
  const { record, body } = call;
  if (record.usage !== undefined || body.kind !== "json" || !call.operation.routedByModel) return;
  record.usage = promptOnly(body.text.length);
  record.usageEstimated = true;
}

/** Fix-ups apply to OpenAI-shaped clients' chat and completions streams (config compat.stream_fixups). */
function fixupField(call: ProxyCall, fixups: boolean): "delta" | "text" | null {
  if (!fixups || call.shape !== "openai") return null;
  if (call.operation === CHAT_COMPLETIONS) return "delta";
  if (call.operation === COMPLETIONS) return "text";
  return null;
}

function errorName(error: unknown): string | undefined {
  if (error === undefined) return undefined;
  return (error as { code?: string }).code ?? (error as { name?: string }).name ?? "error";
}
