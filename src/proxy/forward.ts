/**
 * One proxied call, start to finish: pick the deployment, prepare the upstream request, send
 * it with an abort tied to the client, classify the answer, and hand back a Response whose body
 * relays Azure's. Every failure leaves as a thrown `Failure`; the one error handler writes it.
 * (The routing issue turns the single attempt here into the retry loop across upstreams.)
 */
import type { RoutingTable } from "../config/resolve.ts";
import { Failure } from "../lib/failure.ts";
import { keptUpstreamHeaders } from "../lib/headers.ts";
import type { Logger } from "../lib/log.ts";
import { relayBody, relaySse, type RelayEnd } from "../stream/relay.ts";
import type { ProxyCall } from "./call.ts";
import { failureFromFetchError, failureFromUpstream } from "./outcome.ts";
import { prepareUpstream } from "./prepare.ts";

export interface ForwardDeps {
  readonly routing: RoutingTable;
  readonly fetch: typeof fetch;
  readonly log: Logger;
}

export type Forward = (call: ProxyCall) => Promise<Response>;

export function createForwarder({ routing, fetch, log }: ForwardDeps): Forward {
  return async function forward(call) {
    const route = routing.resolve(call.model);
    if (!route) {
      const known = routing.listedModels.length > 0 ? ` Available models: ${routing.listedModels.join(", ")}.` : "";
      throw new Failure("model_not_found", `The model '${call.model}' does not exist or is not served by this proxy.${known}`, {
        param: "model",
        code: "model_not_found",
      });
    }
    const upstream = prepareUpstream(call, route);

    const abort = new AbortController();
    const onClientGone = () => abort.abort();
    call.signal.addEventListener("abort", onClientGone, { once: true });
    const release = () => call.signal.removeEventListener("abort", onClientGone);
    if (call.signal.aborted) abort.abort();

    let response: Response;
    try {
      response = await fetch(upstream.url, {
        method: "POST",
        headers: upstream.headers,
        body: upstream.body,
        signal: abort.signal,
        redirect: "manual",
      });
    } catch (error) {
      release();
      throw failureFromFetchError(error, route, call.signal.aborted);
    }
    if (response.status >= 300) {
      release();
      throw await failureFromUpstream(response, route, call.model);
    }
    if (!response.body) {
      release();
      return new Response(null, { status: response.status, headers: keptUpstreamHeaders(response.headers) });
    }

    const hooks = {
      abortUpstream: () => abort.abort(),
      onEnd: (end: RelayEnd, error?: unknown) => {
        release();
        if (end === "upstream_broke" || end === "upstream_truncated") {
          log.warn("upstream stream ended early", { request_id: call.requestId, upstream: route.upstream.name, end, error: errorName(error) });
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
    const body = isSse ? relaySse(response.body, hooks, route.upstream.name, call.operation.streamEndsWithDone) : relayBody(response.body, hooks);
    return new Response(body, { status: response.status, headers });
  };
}

function errorName(error: unknown): string | undefined {
  if (error === undefined) return undefined;
  return (error as { code?: string; name?: string }).code ?? (error as { name?: string }).name ?? "error";
}
