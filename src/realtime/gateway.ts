/**
 * Realtime upgrades, taken before the HTTP app sees the request (an upgrade is no request an
 * Elysia route can answer on both runtimes). Everything that can refuse a session is decided
 * first, as an ordinary HTTP error in OpenAI's shape: the key, the model allow-list, the
 * `Proxy-src` group, rpm and max_streams, then the upstream handshake with failover. Only then is
 * the client's connection upgraded, and the session relays frames (session.ts).
 */
import type { RoutingTable } from "../config/resolve.ts";
import type { Config } from "../config/schema.ts";
import { Failure } from "../lib/failure.ts";
import type { Logger } from "../lib/log.ts";
import type { Metrics } from "../metrics/catalog.ts";
import type { Client } from "../config/client.ts";
import type { InFlight } from "../proxy/in-flight.ts";
import type { KeyLimits } from "../ratelimit/limiter.ts";
import { isWebSocketRequest, type Upgrade } from "../runtime/web-sockets.ts";
import { requestIdFrom } from "../lib/ids.ts";
import type { Credentials } from "../upstream/credentials.ts";
import type { Health } from "../upstream/health.ts";
import type { Selector } from "../upstream/select.ts";
import { candidatesFor } from "./candidates.ts";
import { realtimeKeyCheck } from "./client-keys.ts";
import { openUpstream } from "./handshake.ts";
import { loggablePath, readRealtimeRequest, realtimeShapeOf } from "./inbound.ts";
import type { Spending } from "../state/spending.ts";
import { relaySession } from "./session.ts";

export interface GatewayDeps {
  readonly config: Config;
  readonly routing: RoutingTable;
  readonly health: Health;
  readonly credentials: Credentials;
  readonly selector: Selector;
  readonly limiter: KeyLimits;
  readonly metrics: Metrics;
  readonly inFlight: InFlight;
  readonly log: Logger;
  readonly spending?: Pick<Spending, "record">;
  /** A failure as the HTTP answer every other route gives (http/errors.ts). */
  readonly failureResponse: (failure: Failure) => Response;
  readonly statusOf: (failure: Failure) => number;
}

/** Answers a Realtime upgrade; undefined (synchronously) when the request is no Realtime upgrade. */
export type RealtimeGateway = (request: Request, upgrade: Upgrade) => Promise<Response | undefined> | undefined;

/** Largest event accepted from Azure; OpenAI documents 15 MiB per client event. */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export function createRealtimeGateway(deps: GatewayDeps): RealtimeGateway {
  const { config, routing, metrics, log } = deps;
  const checkKey = realtimeKeyCheck(config.keys, config.auth.insecure_no_auth);
  const handshakeDeps = { ...deps, clock: Date.now, maxMessageBytes: MAX_MESSAGE_BYTES };
  const sessionDeps = { ...deps, maxBufferedBytes: config.realtime.max_buffered_bytes, pingMs: config.realtime.ping_s * 1000 };

  async function accept(request: Request, url: URL, upgrade: Upgrade, shape: NonNullable<ReturnType<typeof realtimeShapeOf>>): Promise<Response | undefined> {
    const started = performance.now();
    const requestId = requestIdFrom(request.headers.get("x-request-id"));
    const path = loggablePath(url);
    let model: string | undefined;
    let client: Client | undefined;
    let release = () => {};
    try {
      const asked = readRealtimeRequest(request, url, shape);
      model = asked.model;
      client = checkKey(asked.key);
      const candidates = candidatesFor(routing, client, asked.model, asked.group);
      await deps.limiter.admit(client);
      release = await deps.limiter.openStream(client);
      const opened = await openUpstream({ model: asked.model, beta: asked.beta, requestId, signal: request.signal }, candidates, handshakeDeps);
      const handlers = relaySession(
        {
          requestId,
          path,
          client,
          model: asked.model,
          modelLabel: routing.isListed(asked.model) ? asked.model : "other",
          upstream: opened.route.upstream.name,
          deployment: opened.route.deployment,
          attempts: opened.attempts,
          release,
          started,
        },
        opened.socket,
        sessionDeps,
      );
      try {
        return upgrade(request, { protocol: asked.protocol, headers: { "x-request-id": requestId }, handlers });
      } catch {
        opened.socket.close(1001, "client handshake failed");
        handlers.close(1006, "client handshake failed");
        return undefined;
      }
    } catch (error) {
      release();
      const failure =
        error instanceof Failure ? error : new Failure("internal", "The proxy failed while opening the Realtime session.", { code: "internal_error" });
      if (failure.kind === "internal") log.error("unexpected error", { request_id: requestId, error: String(error) });
      const status = deps.statusOf(failure);
      const label = model !== undefined && routing.isListed(model) ? model : model === undefined ? "none" : "other";
      metrics.realtimeSessions.inc({ model: label, upstream: "none", outcome: "refused" });
      metrics.requests.inc({ route: "realtime", model: label, upstream: "none", status: String(status) });
      log.info("realtime session", {
        request_id: requestId,
        method: "GET",
        path,
        route: "realtime",
        key: client?.name ?? "anonymous",
        model,
        status,
        end: "refused",
        duration_ms: Math.round((performance.now() - started) * 10) / 10,
      });
      const response = deps.failureResponse(failure);
      response.headers.set("x-request-id", requestId);
      return response;
    }
  }

  // every request passes here first: a plain HTTP request costs one header lookup
  return (request, upgrade) => {
    if (!isWebSocketRequest(request)) return undefined;
    const url = new URL(request.url);
    const shape = realtimeShapeOf(url.pathname);
    return shape === null ? undefined : accept(request, url, upgrade, shape);
  };
}
