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
import { admin } from "./admin.ts";
import { azureRoutes } from "./azure-routes.ts";
import { clientAuth, clientOf } from "./client-auth.ts";
import { corsFor } from "./cors.ts";
import { errorHandling } from "./errors.ts";
import { modelListRoutes } from "./model-list.ts";
import { openaiRoutes } from "./openai-routes.ts";
import { realtimeRoutes } from "./realtime-routes.ts";
import type { RealtimeHttp } from "../realtime/http-service.ts";
import { releaseUntaken } from "./request-body.ts";
import { requestIdOf } from "./request-id.ts";
import { attachRecord } from "./request-record.ts";
import { urlOf } from "./request-url.ts";

export interface AppDeps {
  readonly config: Config;
  /** Models to list on /v1/models. */
  readonly models: readonly string[];
  readonly forward: Forward;
  readonly metrics: Metrics;
  readonly health: Health;
  readonly draining: () => boolean;
  /** Tokens a key used (for its tokens-per-minute limit). */
  readonly onUsage: (key: string, usage: Usage) => void;
  readonly log: Logger;
  /** Realtime's HTTP operations (client_secrets, calls); the WebSocket is answered before the app. */
  readonly realtime: RealtimeHttp;
}

export interface App {
  fetch(request: Request): Promise<Response>;
}

export function buildApp(deps: AppDeps): App {
  const { config, forward, log } = deps;
  const maxBody = config.limits.max_body_bytes;
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
    .use(modelListRoutes(deps.models, Math.floor(Date.now() / 1000)))
    .use(realtimeRoutes(deps.realtime))
    .use(openaiRoutes(forward, maxBody))
    .use(azureRoutes(forward, maxBody));

  return {
    async fetch(request) {
      const id = requestIdOf(request);
      const { pathname } = urlOf(request);
      const record = new RequestRecord(id, request.method, pathname, deps.metrics, log, deps.onUsage);
      attachRecord(request, record);
      let response: Response;
      try {
        response = await app.fetch(request);
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
