/**
 * The one place the HTTP plugins are composed, in order: errors first (every later module
 * inherits the handler), CORS, auth (before any body is read), then the routes. Around them,
 * each request gets its context (request-context.ts), finished when its answer ends
 * (request-end.ts); a Realtime upgrade too, finished when its socket closes.
 * It lives in http/ so that http/ stays the only folder that imports Elysia.
 */
import { Elysia } from "elysia";
import type { Config } from "../config/schema.ts";
import type { Logger } from "../lib/log.ts";
import type { Metrics } from "../metrics/catalog.ts";
import type { Forward } from "../proxy/forward.ts";
import type { KeyLimits } from "../ratelimit/limiter.ts";
import type { Health } from "../upstream/health.ts";
import type { Spending } from "../state/spending.ts";
import type { ConfigHistory } from "../status/config-history.ts";
import type { StatusPart } from "../status/status-part.ts";
import { admin } from "./admin.ts";
import { adminStatus } from "./admin-status.ts";
import { adminUsage } from "./admin-usage.ts";
import { azureRoutes } from "./azure-routes.ts";
import { bodyLimitsOf } from "./body-read.ts";
import { clientAuth } from "./client-auth.ts";
import { corsFor } from "./cors.ts";
import { asFailure, errorHandling, failureResponse } from "./errors.ts";
import { modelListRoutes } from "./model-list.ts";
import { openaiRoutes } from "./openai-routes.ts";
import { statusPage } from "./status-page.ts";
import { relayAccess, type RelayRouting } from "./relay-access.ts";
import { realtimeRoutes } from "./realtime-routes.ts";
import type { RealtimeGateway } from "../realtime/gateway.ts";
import type { RealtimeHttp } from "../realtime/http-service.ts";
import type { Upgrade } from "../runtime/web-sockets.ts";
import { contextOf } from "./request-context.ts";
import { RequestEnds } from "./request-end.ts";
import { checkedUrl } from "./request-target.ts";
import type { RequestActivity } from "./request-activity.ts";

export interface AppDeps {
  readonly config: Config;
  /** Models to list on /v1/models. */
  readonly models: readonly string[];
  /** Where requests without a model go, and the Proxy-src groups: for the relays' access check. */
  readonly routing: RelayRouting;
  readonly forward: Forward;
  readonly metrics: Metrics;
  readonly health: Health;
  readonly draining: () => boolean;
  /** Where a key's tokens count toward its tokens-per-minute limit. */
  readonly limiter: Pick<KeyLimits, "addTokens">;
  /** The usage ledger: each finished call, and /admin/usage. */
  readonly spending: Spending;
  /** For /admin/status: when the config was loaded, and this process's (or every worker's) part. */
  readonly history: ConfigHistory;
  readonly statusPart: () => Promise<StatusPart>;
  readonly log: Logger;
  /** Realtime's HTTP operations (client_secrets, calls); its WebSocket is `upgrades`. */
  readonly realtime: RealtimeHttp;
  /** Realtime's WebSocket sessions (realtime/gateway.ts), answered by `App.upgrade` before Elysia. */
  readonly upgrades: RealtimeGateway;
  /** Every request but the probes is counted here (request-activity.ts). */
  readonly activity: RequestActivity;
}

export interface App {
  fetch(request: Request): Promise<Response>;
  /**
   * A Realtime upgrade, answered before Elysia (no route can answer an upgrade on both
   * runtimes); undefined, synchronously, for any other request, which then goes to fetch.
   */
  upgrade(request: Request, upgrade: Upgrade): Promise<Response | undefined> | undefined;
}

export function buildApp(deps: AppDeps): App {
  const { config, forward, log } = deps;
  const bodyLimits = bodyLimitsOf(config);
  const access = relayAccess(deps.routing);
  const ends = new RequestEnds({ metrics: deps.metrics, log, limiter: deps.limiter, spending: deps.spending, clock: Date.now, activity: deps.activity });
  // normalize off: Elysia would otherwise coerce the body (a string into an array, ...) before
  // validating it, and a coerced body could pass while the raw text we forward is still wrong.
  // standardHostname off: Elysia otherwise finds the path from the 12th character of the URL,
  // which assumes a host of 4+ characters; `Host: api` (a compose service behind nginx) would
  // route /v1/chat/completions as /chat/completions. Our listener is plain HTTP, so the URL
  // always starts with "http://" and the path is the first "/" after it.
  const app = new Elysia({ normalize: false, handler: { standardHostname: false } })
    .use(errorHandling((error, request) => log.error("unexpected error", { request_id: contextOf(request).id, error: String(error) })))
    .use(corsFor(config.cors.origins))
    .use(clientAuth(config.keys, config.auth.insecure_no_auth))
    .use(admin(deps))
    .use(adminUsage({ spending: deps.spending, prices: config.prices, clock: Date.now }))
    .use(statusPage())
    .use(adminStatus({ config, health: deps.health, spending: deps.spending, history: deps.history, statusPart: deps.statusPart, clock: Date.now }))
    .use(modelListRoutes(deps.models, Math.floor(Date.now() / 1000)))
    .use(realtimeRoutes(deps.realtime, bodyLimits))
    .use(openaiRoutes(forward, bodyLimits, access))
    .use(azureRoutes(forward, bodyLimits, access));

  return {
    async fetch(request) {
      const url = checkedUrl(request);
      const context = ends.open(request, url instanceof URL ? url : undefined);
      let response: Response;
      try {
        if (!(url instanceof URL)) throw url;
        response = await app.fetch(request);
      } catch (error) {
        // Elysia's onError answers whatever a route throws; this is for what fails before or
        // around it, so that no request ever gets the runtime's own HTML error page
        const failure = asFailure(error, request);
        if (failure.kind === "internal") log.error("unexpected error", { request_id: context.id, error: String(error) });
        response = failureResponse(failure);
      } finally {
        // a body read for a request that then failed validation never reached a handler
        context.releaseUntaken();
      }
      response.headers.set("x-request-id", context.id);
      ends.settle(context, response.status);
      return response;
    },
    upgrade(request, upgrade) {
      const target = deps.upgrades.target(request);
      if (target === undefined) return undefined;
      const session = ends.openSession(request, target.path);
      return deps.upgrades.accept(request, target, upgrade, session).then(({ response, ended }) => {
        ends.settleSession(session, ended);
        return response;
      });
    },
  };
}
