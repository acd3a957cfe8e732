/**
 * The one place the HTTP plugins are composed, in order: errors first (every later module
 * inherits the handler), then auth (before any body is read), then the routes.
 * It lives in http/ so that http/ stays the only folder that imports Elysia.
 */
import { Elysia } from "elysia";
import type { Config } from "../config/schema.ts";
import type { Logger } from "../lib/log.ts";
import type { Forward } from "../proxy/forward.ts";
import { admin } from "./admin.ts";
import { azureRoutes } from "./azure-routes.ts";
import { clientAuth, clientOf } from "./client-auth.ts";
import { errorHandling } from "./errors.ts";
import { modelListRoutes } from "./model-list.ts";
import { openaiRoutes } from "./openai-routes.ts";
import { releaseUntaken } from "./request-body.ts";
import { requestIdOf } from "./request-id.ts";

export interface AppDeps {
  readonly config: Config;
  /** Models to list on /v1/models. */
  readonly models: readonly string[];
  readonly forward: Forward;
  readonly log: Logger;
}

export interface App {
  fetch(request: Request): Promise<Response>;
}

export function buildApp({ config, models, forward, log }: AppDeps): App {
  const maxBody = config.limits.max_body_bytes;
  // normalize off: Elysia would otherwise coerce the body (a string into an array, ...) before
  // validating it, and a coerced body could pass while the raw text we forward is still wrong.
  const app = new Elysia({ normalize: false })
    .use(errorHandling((error, request) => log.error("unexpected error", { request_id: requestIdOf(request), error: String(error) })))
    .use(clientAuth(config.keys, config.auth.insecure_no_auth))
    .use(admin)
    .use(modelListRoutes(models, Math.floor(Date.now() / 1000)))
    .use(openaiRoutes(forward, maxBody))
    .use(azureRoutes(forward, maxBody));

  return {
    async fetch(request) {
      const started = performance.now();
      const id = requestIdOf(request);
      const response = await app.fetch(request);
      // a body read for a request that then failed validation never reached a handler
      releaseUntaken(request);
      response.headers.set("x-request-id", id);
      const { pathname } = new URL(request.url);
      log.info("request", {
        request_id: id,
        method: request.method,
        path: pathname,
        status: response.status,
        // for a stream this is the time to its headers; the stream itself goes on
        ms_to_headers: Math.round((performance.now() - started) * 10) / 10,
        key: clientOf(request).name,
      });
      return response;
    },
  };
}
