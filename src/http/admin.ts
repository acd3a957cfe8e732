/**
 * Ops endpoints; they need no client key (unless `metrics.require_key`):
 *   /healthz  the process is alive
 *   /readyz   it should get traffic: not draining, and some upstream not cooling as a whole
 *   /metrics  Prometheus text (metrics/catalog.ts)
 */
import { Elysia } from "elysia";
import type { Config } from "../config/schema.ts";
import { Failure } from "../lib/failure.ts";
import type { Metrics } from "../metrics/catalog.ts";
import type { Health } from "../upstream/health.ts";
import { contextOf } from "./request-context.ts";

export interface AdminDeps {
  readonly config: Config;
  readonly metrics: Metrics;
  readonly health: Health;
  readonly draining: () => boolean;
}

export function admin({ config, metrics, health, draining }: AdminDeps) {
  return new Elysia({ name: "admin" })
    .get("/healthz", () => Response.json({ status: "ok" }))
    .get("/readyz", () => {
      if (draining()) return Response.json({ status: "draining" }, { status: 503 });
      const cooling = new Set(
        health
          .cooling()
          .filter((c) => c.deployment === null)
          .map((c) => c.upstream),
      );
      const usable = config.upstreams.filter((u) => !cooling.has(u.name)).map((u) => u.name);
      if (usable.length === 0) return Response.json({ status: "no usable upstream", cooling: [...cooling] }, { status: 503 });
      return Response.json({ status: "ready", upstreams: usable });
    })
    .get("/metrics", async ({ request }) => {
      if (config.metrics.require_key && contextOf(request).client.name === "anonymous") {
        throw new Failure("unauthorized", "/metrics needs a client key here (metrics.require_key).", { code: "missing_api_key" });
      }
      return new Response(await metrics.render(), { headers: { "content-type": metrics.registry.contentType } });
    });
}
