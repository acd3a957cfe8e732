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
import { annotationChunkFilter, type EventFilter } from "../stream/fixups.ts";
import { relayBody, relaySse, type RelayEnd } from "../stream/relay.ts";
import type { Credentials } from "../upstream/credentials.ts";
import type { Reachability } from "../upstream/reachability.ts";
import type { ProxyCall } from "./call.ts";
import { CHAT_COMPLETIONS, COMPLETIONS } from "./operations.ts";
import { failureFromFetchError, failureFromUpstream } from "./outcome.ts";
import { prepareUpstream, type Target } from "./prepare.ts";

export interface AttemptDeps {
  readonly fetch: typeof globalThis.fetch;
  readonly credentials: Credentials;
  readonly reachability: Reachability;
  readonly config: Pick<Config, "timeouts" | "identity" | "compat">;
  readonly log: Logger;
}

const CHAT_FILTER = annotationChunkFilter("delta");
const COMPLETIONS_FILTER = annotationChunkFilter("text");

/**
 * `onRelayEnd` runs once when a relayed answer's body ends (however it ends). A failed attempt
 * only cleans up after itself: the call's body stays with the retry loop for the next attempt.
 */
export async function attempt(call: ProxyCall, target: Target, deps: AttemptDeps, onRelayEnd: () => void): Promise<Response> {
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
    throw new Failure("upstream_auth", `could not get an Entra ID token for upstream '${upstream.name}': ${(error as Error).message}`, { code: "upstream_auth_failed" });
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
  const cleanUp = () => {
    clearTimeout(firstByteTimer);
    call.signal.removeEventListener("abort", onClientGone);
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
      throw failureFromFetchError(error, upstream, call.signal.aborted, firstByteTimedOut ? timeouts.first_byte_ms : null);
    }
    clearTimeout(firstByteTimer);
    deps.reachability.answered(upstream.endpoint);
    if (response.status >= 300) throw await failureFromUpstream(response, target, call);
    if (!response.body) {
      cleanUp();
      onRelayEnd();
      return new Response(null, { status: response.status, headers: keptUpstreamHeaders(response.headers) });
    }

    const hooks = {
      abortUpstream: () => abort.abort(),
      onEnd: (end: RelayEnd, error?: unknown) => {
        cleanUp();
        onRelayEnd();
        if (end !== "complete" && end !== "client_closed") {
          deps.log.warn("upstream stream ended early", { request_id: call.requestId, upstream: upstream.name, end, error: errorName(error) });
        }
      },
    };
    const headers = keptUpstreamHeaders(response.headers);
    const isSse = (response.headers.get("content-type") ?? "").startsWith("text/event-stream");
    if (isSse) {
      headers.set("cache-control", "no-cache");
      // nginx and other buffering proxies must pass each event on as it comes
      headers.set("x-accel-buffering", "no");
    }
    const body = isSse
      ? relaySse(response.body, hooks, { upstreamName: upstream.name, end: call.operation.streamEnd, filter: filterFor(call, deps.config.compat.stream_fixups), idleMs: timeouts.idle_ms })
      : relayBody(response.body, hooks, timeouts.idle_ms);
    return new Response(body, { status: response.status, headers });
  } catch (error) {
    cleanUp();
    throw error;
  }
}

function filterFor(call: ProxyCall, fixups: boolean): EventFilter | undefined {
  if (!fixups || call.shape !== "openai") return undefined;
  if (call.operation === CHAT_COMPLETIONS) return CHAT_FILTER;
  if (call.operation === COMPLETIONS) return COMPLETIONS_FILTER;
  return undefined;
}

function errorName(error: unknown): string | undefined {
  if (error === undefined) return undefined;
  return (error as { code?: string }).code ?? (error as { name?: string }).name ?? "error";
}
