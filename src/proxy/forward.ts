/**
 * One proxied call, start to finish: pick the upstream (by model, or the default one for
 * model-less operations), prepare the request, send it with an abort tied to the client,
 * classify the answer, and hand back a Response whose body relays Azure's. Every failure leaves
 * as a thrown `Failure`; the one error handler writes it. Whatever happens, the call's spooled
 * body and its abort listener are released exactly once.
 * (The routing issue turns the single attempt here into the retry loop across upstreams.)
 */
import type { RoutingTable } from "../config/resolve.ts";
import { Failure } from "../lib/failure.ts";
import { keptUpstreamHeaders } from "../lib/headers.ts";
import type { Logger } from "../lib/log.ts";
import { annotationChunkFilter, type EventFilter } from "../stream/fixups.ts";
import { relayBody, relaySse, type RelayEnd } from "../stream/relay.ts";
import { disposeBody, type ProxyCall } from "./call.ts";
import { CHAT_COMPLETIONS, COMPLETIONS } from "./operations.ts";
import { failureFromFetchError, failureFromUpstream } from "./outcome.ts";
import { prepareUpstream, type Target } from "./prepare.ts";

export interface ForwardDeps {
  readonly routing: RoutingTable;
  readonly fetch: typeof fetch;
  readonly log: Logger;
  /** Drop Azure-only annotation chunks for OpenAI-shaped clients (config `compat.stream_fixups`). */
  readonly streamFixups: boolean;
}

export type Forward = (call: ProxyCall) => Promise<Response>;

const CHAT_FILTER = annotationChunkFilter("delta");
const COMPLETIONS_FILTER = annotationChunkFilter("text");

export function createForwarder({ routing, fetch, log, streamFixups }: ForwardDeps): Forward {
  function targetOf(call: ProxyCall): Target {
    if (!call.operation.routedByModel) return { upstream: routing.defaultUpstream, route: null };
    const route = routing.resolve(call.model!);
    if (!route) {
      const known = routing.listedModels.length > 0 ? ` Available models: ${routing.listedModels.join(", ")}.` : "";
      throw new Failure("model_not_found", `The model '${call.model}' does not exist or is not served by this proxy.${known}`, {
        param: "model",
        code: "model_not_found",
      });
    }
    return { upstream: route.upstream, route };
  }

  function filterFor(call: ProxyCall): EventFilter | undefined {
    if (!streamFixups || call.shape !== "openai") return undefined;
    if (call.operation === CHAT_COMPLETIONS) return CHAT_FILTER;
    if (call.operation === COMPLETIONS) return COMPLETIONS_FILTER;
    return undefined;
  }

  return async function forward(call) {
    const abort = new AbortController();
    const onClientGone = () => abort.abort();
    call.signal.addEventListener("abort", onClientGone, { once: true });
    if (call.signal.aborted) abort.abort();
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      call.signal.removeEventListener("abort", onClientGone);
      disposeBody(call.body);
    };

    try {
      const target = targetOf(call);
      const upstream = prepareUpstream(call, target);
      let response: Response;
      try {
        response = await fetch(upstream.url, {
          method: upstream.method,
          headers: upstream.headers,
          body: upstream.body,
          signal: abort.signal,
          redirect: "manual",
          // a streamed upload (spooled multipart) needs half duplex in the fetch standard
          ...(upstream.body instanceof ReadableStream ? { duplex: "half" } : {}),
        } as RequestInit);
      } catch (error) {
        throw failureFromFetchError(error, target.upstream, call.signal.aborted);
      }
      if (response.status >= 300) throw await failureFromUpstream(response, target, call);
      if (!response.body) {
        release();
        return new Response(null, { status: response.status, headers: keptUpstreamHeaders(response.headers) });
      }

      const hooks = {
        abortUpstream: () => abort.abort(),
        onEnd: (end: RelayEnd, error?: unknown) => {
          release();
          if (end === "upstream_broke" || end === "upstream_truncated") {
            log.warn("upstream stream ended early", { request_id: call.requestId, upstream: target.upstream.name, end, error: errorName(error) });
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
        ? relaySse(response.body, hooks, { upstreamName: target.upstream.name, end: call.operation.streamEnd, filter: filterFor(call) })
        : relayBody(response.body, hooks);
      return new Response(body, { status: response.status, headers });
    } catch (error) {
      release();
      throw error;
    }
  };
}

function errorName(error: unknown): string | undefined {
  if (error === undefined) return undefined;
  return (error as { code?: string; name?: string }).code ?? (error as { name?: string }).name ?? "error";
}
