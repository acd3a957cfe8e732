/**
 * Realtime upgrades, answered by http/app.ts before Elysia routes anything (an upgrade is no
 * request an Elysia route can answer on both runtimes). Everything that can refuse a session is decided
 * first, as an ordinary HTTP error in OpenAI's shape: the key, the model allow-list, the
 * `Proxy-src` group, rpm and max_streams, then the upstream handshake with failover. Only then is
 * the client's connection upgraded, and the session relays frames (session.ts). What happens is
 * reported to the context's observer and counted by the upgrade's owner (http/app.ts opens it,
 * http/request-end.ts finishes it), as for any request.
 */
import type { RoutingTable } from "../config/resolve.ts";
import type { Config } from "../config/schema.ts";
import { Failure } from "../lib/failure.ts";
import type { Logger } from "../lib/log.ts";
import type { Metrics } from "../metrics/catalog.ts";
import type { InFlight } from "../proxy/in-flight.ts";
import type { KeyLimits } from "../ratelimit/limiter.ts";
import { isWebSocketRequest, type Upgrade } from "../runtime/web-sockets.ts";
import type { Credentials } from "../upstream/credentials.ts";
import type { Health } from "../upstream/health.ts";
import type { Selector } from "../upstream/select.ts";
import { candidatesFor } from "./candidates.ts";
import { realtimeKeyCheck } from "./client-keys.ts";
import { openUpstream } from "./handshake.ts";
import { loggablePath, readRealtimeRequest, realtimeShapeOf, type RealtimeShape } from "./inbound.ts";
import type { SessionContext, Upgraded } from "./observer.ts";
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
  /** A failure as the HTTP answer every other route gives (http/errors.ts). */
  readonly failureResponse: (failure: Failure) => Response;
  readonly statusOf: (failure: Failure) => number;
}

export interface RealtimeTarget {
  readonly url: URL;
  readonly shape: RealtimeShape;
  /** The path as the access log shows it: a key in the query is redacted (inbound.ts). */
  readonly path: string;
}

export interface RealtimeGateway {
  /** Undefined (synchronously) when the request is no Realtime upgrade. */
  target(request: Request): RealtimeTarget | undefined;
  /** Refuse or open the session; it reports to the context's observer and ends through `ended`. */
  accept(request: Request, target: RealtimeTarget, upgrade: Upgrade, context: SessionContext): Promise<Upgraded>;
}

/** Largest event accepted from Azure; OpenAI documents 15 MiB per client event. */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export function createRealtimeGateway(deps: GatewayDeps): RealtimeGateway {
  const { config, routing, log } = deps;
  const checkKey = realtimeKeyCheck(config.keys, config.auth.insecure_no_auth);
  const handshakeDeps = { ...deps, clock: Date.now, maxMessageBytes: MAX_MESSAGE_BYTES };
  const sessionDeps = { inFlight: deps.inFlight, maxBufferedBytes: config.realtime.max_buffered_bytes, pingMs: config.realtime.ping_s * 1000 };

  async function accept(request: Request, target: RealtimeTarget, upgrade: Upgrade, { id, observer }: SessionContext): Promise<Upgraded> {
    let release = () => {};
    try {
      const asked = readRealtimeRequest(request, target.url, target.shape);
      observer.begin("realtime", asked.model, routing.isListed(asked.model));
      const client = checkKey(asked.key);
      observer.chargedTo(client.name);
      const candidates = candidatesFor(routing, client, asked.model, asked.group);
      await deps.limiter.admit(client);
      release = await deps.limiter.openStream(client);
      const opened = await openUpstream({ model: asked.model, beta: asked.beta, requestId: id, signal: request.signal }, candidates, handshakeDeps);
      observer.opened(opened.route.upstream.name, opened.route.deployment, opened.attempts);
      const { handlers, ended } = relaySession(release, opened.socket, sessionDeps, observer);
      try {
        return { response: upgrade(request, { protocol: asked.protocol, headers: { "x-request-id": id }, handlers }), ended };
      } catch {
        opened.socket.close(1001, "client handshake failed");
        handlers.close(1006, "client handshake failed");
        return { response: undefined, ended };
      }
    } catch (error) {
      release();
      const failure =
        error instanceof Failure ? error : new Failure("internal", "The proxy failed while opening the Realtime session.", { code: "internal_error" });
      if (failure.kind === "internal") log.error("unexpected error", { request_id: id, error: String(error) });
      const response = deps.failureResponse(failure);
      response.headers.set("x-request-id", id);
      return { response, ended: Promise.resolve({ status: deps.statusOf(failure), outcome: "refused" }) };
    }
  }

  return {
    // every request passes here first: a plain HTTP request costs one header lookup
    target(request) {
      if (!isWebSocketRequest(request)) return undefined;
      const url = new URL(request.url);
      const shape = realtimeShapeOf(url.pathname);
      return shape === null ? undefined : { url, shape, path: loggablePath(url) };
    },
    accept,
  };
}
