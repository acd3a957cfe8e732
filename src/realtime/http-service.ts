/**
 * The Realtime API's two HTTP operations beside the WebSocket:
 * - `client_secrets` mints an ephemeral key upstream for a client key (the model in
 *   `session.model`, routed and failed over like any call) and hands it out sealed with the
 *   resource that minted it (ephemeral-keys.ts);
 * - `calls` relays a WebRTC offer (SDP) and returns Azure's answer (201). With an ephemeral key
 *   it goes to the resource that minted it, with no failover (the key is valid nowhere else);
 *   with a client key it is routed by `?model=` with the proxy's own credential. `Location`
 *   names the call on the proxy (a path on the same origin), not on Azure.
 * Both use Azure's v1 paths (/openai/v1/realtime/...), which every resource has whatever
 * api_version the rest uses.
 */
import type { Route, RoutingTable, UpstreamTarget } from "../config/resolve.ts";
import type { Config } from "../config/schema.ts";
import { Failure } from "../lib/failure.ts";
import { keptUpstreamHeaders } from "../lib/headers.ts";
import type { Client } from "../config/client.ts";
import type { ProxyCall } from "../proxy/call.ts";
import { ANONYMOUS_CLIENT, clientOfKey } from "../proxy/clients.ts";
import type { CallObserver } from "../proxy/observer.ts";
import { failureFromFetchError, failureFromUpstream } from "../proxy/outcome.ts";
import type { KeyLimits } from "../ratelimit/limiter.ts";
import type { Credentials } from "../upstream/credentials.ts";
import { VERSION } from "../version.ts";
import { candidatesFor } from "./candidates.ts";
import type { EphemeralKeys } from "./ephemeral-keys.ts";
import { failOver, type FailoverDeps } from "./handshake.ts";

export interface RealtimeHttpDeps extends FailoverDeps {
  readonly config: Config;
  readonly routing: RoutingTable;
  readonly credentials: Credentials;
  readonly limiter: KeyLimits;
  readonly fetch: typeof globalThis.fetch;
  readonly keys: EphemeralKeys;
}

interface Common {
  readonly requestId: string;
  readonly signal: AbortSignal;
  readonly observer: CallObserver;
}

export interface ClientSecretInput extends Common {
  readonly body: Record<string, unknown>;
  readonly client: Client;
  readonly group: string | undefined;
}

export interface CallInput extends Common {
  readonly sdp: string;
  readonly contentType: string | null;
  readonly key: string | null;
  /** The client key's holder; null when the key is an ephemeral one (client-auth let it through). */
  readonly client: Client | null;
  /** `?model=`, for a call made with a client key. */
  readonly model: string | null;
  /** Where the client called: `/v1` or `/openai/v1`, for the Location it gets back. */
  readonly prefix: string;
  readonly group: string | undefined;
}

export interface RealtimeHttp {
  clientSecret(input: ClientSecretInput): Promise<Response>;
  call(input: CallInput): Promise<Response>;
}

const USER_AGENT = `azure-proxy/${VERSION}`;

export function realtimeHttp(deps: RealtimeHttpDeps): RealtimeHttp {
  const { routing, config } = deps;
  // an ephemeral key spends for the key that minted it: its rpm and budget hold for its calls
  const holders = new Map<string, Client>(config.keys.map((k) => [k.name, clientOfKey(k)]));
  const holderOf = (name: string) => (config.auth.insecure_no_auth ? ANONYMOUS_CLIENT : holders.get(name));

  /** POST to Azure; a status that is not 2xx is a Failure (for failover, or for the client). */
  async function send(
    upstream: UpstreamTarget,
    route: Route | null,
    path: string,
    auth: readonly [string, string],
    body: string,
    contentType: string,
    model: string,
    signal: AbortSignal,
  ): Promise<Response> {
    let response: Response;
    const timeout = AbortSignal.timeout(config.timeouts.first_byte_ms);
    try {
      response = await deps.fetch(`${upstream.endpoint}/openai/v1/realtime/${path}`, {
        method: "POST",
        headers: { [auth[0]]: auth[1], "content-type": contentType, "user-agent": USER_AGENT },
        body,
        signal: AbortSignal.any([signal, timeout]),
      });
    } catch (error) {
      throw failureFromFetchError(error, upstream, signal.aborted, timeout.aborted ? { kind: "first_byte", ms: config.timeouts.first_byte_ms } : null);
    }
    if (!response.ok) throw await failureFromUpstream(response, { upstream, route }, { model } as ProxyCall, config.timeouts.idle_ms);
    return response;
  }

  const credential = async (upstream: UpstreamTarget) => {
    try {
      return await deps.credentials.header(upstream, config.identity);
    } catch (error) {
      throw new Failure("upstream_auth", `could not get a credential for upstream '${upstream.name}': ${(error as Error).message}`, {
        code: "upstream_auth_failed",
      });
    }
  };

  return {
    async clientSecret({ body, client, group, requestId, signal, observer }) {
      observer.begin("realtime.client_secrets", undefined, false);
      const session = body.session as Record<string, unknown> | undefined;
      const model = session?.model;
      if (typeof model !== "string" || model === "") {
        throw new Failure("invalid_request", "Missing 'session.model': say which model the ephemeral key is for.", {
          param: "session.model",
          code: "missing_required_parameter",
        });
      }
      observer.begin("realtime.client_secrets", model, routing.isListed(model));
      const candidates = candidatesFor(routing, client, model, group);
      await deps.limiter.admit(client);
      const { value: response, route } = await failOver({ model, requestId }, candidates, deps, async (route) => {
        observer.attempt(route.upstream.name, route.deployment);
        const upstreamBody = JSON.stringify({ ...body, session: { ...session, model: route.deployment } });
        return send(route.upstream, route, "client_secrets", await credential(route.upstream), upstreamBody, "application/json", model, signal);
      });
      const minted = (await response.json()) as Record<string, unknown>;
      const value = minted.value;
      const expiresAt = Number(minted.expires_at);
      if (typeof value !== "string" || !Number.isFinite(expiresAt)) {
        throw new Failure("upstream_broke", `upstream '${route.upstream.name}' answered client_secrets without a value and expires_at`, {
          code: "upstream_bad_answer",
        });
      }
      const sealed = deps.keys.seal({ upstream: route.upstream.name, keyName: client.name, expiresAt, value });
      const headers = keptUpstreamHeaders(response.headers);
      headers.set("content-type", "application/json");
      return new Response(JSON.stringify({ ...minted, value: sealed }), { status: response.status, headers });
    },

    async call({ sdp, contentType, key, client, model, prefix, group, requestId, signal, observer }) {
      observer.begin("realtime.calls", undefined, false);
      if (!contentType)
        throw new Failure("invalid_request", "Send the WebRTC offer with 'Content-Type: application/sdp'.", {
          param: "content-type",
          code: "invalid_content_type",
        });
      const minted = client !== null || key === null ? undefined : deps.keys.open(key, Math.floor(Date.now() / 1000));
      let response: Response;
      if (client === null) {
        if (!minted) throw new Failure("unauthorized", "This ephemeral key was not minted by this proxy, or it has expired.", { code: "invalid_api_key" });
        const upstream = routing.upstreams.find((u) => u.name === minted.upstream);
        if (!upstream)
          throw new Failure("unauthorized", `The ephemeral key was minted by upstream '${minted.upstream}', which this proxy no longer has.`, {
            code: "invalid_api_key",
          });
        const holder = holderOf(minted.keyName);
        if (!holder)
          throw new Failure("unauthorized", `The ephemeral key was minted for the key '${minted.keyName}', which this proxy no longer has.`, {
            code: "invalid_api_key",
          });
        observer.chargedTo(minted.keyName);
        await deps.limiter.admit(holder);
        observer.attempt(upstream.name, undefined);
        response = await send(upstream, null, "calls", ["authorization", `Bearer ${minted.value}`], sdp, contentType, model ?? "realtime", signal);
      } else {
        if (!model)
          throw new Failure(
            "invalid_request",
            "Missing the 'model' query parameter: a call made with a client key needs one (or use an ephemeral key from client_secrets).",
            { param: "model", code: "missing_required_parameter" },
          );
        observer.begin("realtime.calls", model, routing.isListed(model));
        const candidates = candidatesFor(routing, client, model, group);
        await deps.limiter.admit(client);
        ({ value: response } = await failOver({ model, requestId }, candidates, deps, async (route) => {
          observer.attempt(route.upstream.name, route.deployment);
          return send(
            route.upstream,
            route,
            `calls?model=${encodeURIComponent(route.deployment)}`,
            await credential(route.upstream),
            sdp,
            contentType,
            model,
            signal,
          );
        }));
      }
      const headers = keptUpstreamHeaders(response.headers);
      const location = response.headers.get("location");
      const callId = location ? location.split("?")[0]!.split("/").filter(Boolean).at(-1) : undefined;
      if (callId) headers.set("location", `${prefix}/realtime/calls/${encodeURIComponent(callId)}`);
      return new Response(await response.text(), { status: response.status, headers });
    },
  };
}
