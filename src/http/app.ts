/**
 * The one place the HTTP plugins are composed, in order: errors first (every later module
 * inherits the handler), CORS, auth (before any body is read), then the routes. Around them,
 * each request gets its id and its record, and the record is finished when the answer ends.
 * It lives in http/ so that http/ stays the only folder that imports Elysia.
 */
import { Elysia } from "elysia";
import type { Config } from "../config/schema.ts";
import type { Logger } from "../lib/log.ts";
import type { Metrics } from "../metrics/catalog.ts";
import { RequestRecord, type Usage } from "../metrics/record.ts";
import type { Forward } from "../proxy/forward.ts";
import type { Health } from "../upstream/health.ts";
import type { Spending } from "../state/spending.ts";
import type { ConfigHistory } from "../status/config-history.ts";
import type { StatusPart } from "../status/status-part.ts";
import { admin } from "./admin.ts";
import { adminStatus } from "./admin-status.ts";
import { adminUsage } from "./admin-usage.ts";
import { azureRoutes } from "./azure-routes.ts";
import { bodyLimitsOf } from "./body-read.ts";
import { clientAuth, clientOf } from "./client-auth.ts";
import { corsFor } from "./cors.ts";
import { asFailure, errorHandling, failureResponse } from "./errors.ts";
import { modelListRoutes } from "./model-list.ts";
import { openaiRoutes } from "./openai-routes.ts";
import { statusPage } from "./status-page.ts";
import { relayAccess, type RelayRouting } from "./relay-access.ts";
import { realtimeRoutes } from "./realtime-routes.ts";
import type { RealtimeHttp } from "../realtime/http-service.ts";
import { releaseUntaken } from "./request-body.ts";
import { requestIdOf } from "./request-id.ts";
import { attachRecord } from "./request-record.ts";
import { checkedUrl } from "./request-target.ts";
import { keepUrl } from "./request-url.ts";

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
  /** Tokens a key used (for its tokens-per-minute limit). */
  readonly onUsage: (key: string, usage: Usage) => void;
  /** A request is over (the usage ledger). */
  readonly onFinished?: (record: RequestRecord) => void;
  /** The usage ledger, for /admin/usage. */
  readonly spending: Spending;
  /** For /admin/status: when the config was loaded, and this process's (or every worker's) part. */
  readonly history: ConfigHistory;
  readonly statusPart: () => Promise<StatusPart>;
  readonly log: Logger;
  /** Realtime's HTTP operations (client_secrets, calls); the WebSocket is answered before the app. */
  readonly realtime: RealtimeHttp;
}

export interface App {
  fetch(request: Request): Promise<Response>;
}

export function buildApp(deps: AppDeps): App {
  const { config, forward, log } = deps;
  const bodyLimits = bodyLimitsOf(config);
  const access = relayAccess(deps.routing);
  // normalize off: Elysia would otherwise coerce the body (a string into an array, ...) before
  // validating it, and a coerced body could pass while the raw text we forward is still wrong.
  // standardHostname off: Elysia otherwise finds the path from the 12th character of the URL,
  // which assumes a host of 4+ characters; `Host: api` (a compose service behind nginx) would
  // route /v1/chat/completions as /chat/completions. Our listener is plain HTTP, so the URL
  // always starts with "http://" and the path is the first "/" after it.
  const app = new Elysia({ normalize: false, handler: { standardHostname: false } })
    .use(errorHandling((error, request) => log.error("unexpected error", { request_id: requestIdOf(request), error: String(error) })))
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
      const id = requestIdOf(request);
      const url = checkedUrl(request);
      const record = new RequestRecord(id, request.method, url instanceof URL ? url.pathname : "(invalid)", deps.metrics, log, deps.onUsage, deps.onFinished);
      attachRecord(request, record);
      let response: Response;
      try {
        if (!(url instanceof URL)) throw url;
        keepUrl(request, url);
        response = await app.fetch(request);
      } catch (error) {
        // Elysia's onError answers whatever a route throws; this is for what fails before or
        // around it, so that no request ever gets the runtime's own HTML error page
        const failure = asFailure(error, request);
        if (failure.kind === "internal") log.error("unexpected error", { request_id: id, error: String(error) });
        response = failureResponse(failure);
      } finally {
        // a body read for a request that then failed validation never reached a handler
        releaseUntaken(request);
        // a route may have named the key itself (a Realtime call made with an ephemeral key)
        if (record.key === "anonymous") record.key = clientOf(request).name;
      }
      response.headers.set("x-request-id", id);
      // a relayed answer finishes its record when its body ends; everything else is done now
      if (!record.relayed) record.finish(response.status);
      return response;
    },
  };
}
