/**
 * GET /admin/status: what the status page (GET /status) shows, as JSON, for admin keys
 * (`keys[].admin`; the same check as /admin/usage). Upstreams and deployments with their state,
 * what is in flight, the last hour per minute, and each key's spend today and this month
 * against its budgets (status/status-report.ts says what each field means).
 */
import { Elysia } from "elysia";
import type { Config } from "../config/schema.ts";
import type { Spending } from "../state/spending.ts";
import type { ConfigHistory } from "../status/config-history.ts";
import { MonthUsage } from "../status/month-usage.ts";
import type { StatusPart } from "../status/status-part.ts";
import { statusReport } from "../status/status-report.ts";
import type { Health } from "../upstream/health.ts";
import { VERSION } from "../version.ts";
import { requireAdmin } from "./admin-usage.ts";

export interface AdminStatusDeps {
  readonly config: Config;
  readonly health: Health;
  readonly spending: Spending;
  readonly history: ConfigHistory;
  /** This process's part, or every worker's summed (cluster/status-sum.ts). */
  readonly statusPart: () => Promise<StatusPart>;
  readonly clock: () => number;
}

export function adminStatus({ config, health, spending, history, statusPart, clock }: AdminStatusDeps) {
  const month = new MonthUsage(spending);
  return new Elysia({ name: "admin-status" }).get("/admin/status", async ({ request }) => {
    requireAdmin(request, "/admin/status");
    const now = clock();
    // the cooling pairs as of `now`, before the awaits: a routing call in between drops a
    // cooldown that has ended, and one that ended then must not show "ok" at a `now` before its end
    const cooling = health.cooling(now);
    const [part, rows] = await Promise.all([statusPart(), month.rows(now)]);
    // this very request is one of those in flight: the page shows the others
    const others = { ...part, inflight: { ...part.inflight, requests: Math.max(0, part.inflight.requests - 1) } };
    const report = statusReport({
      config,
      cooling,
      part: others,
      rows,
      loadedAt: history.loadedAt,
      lastReload: history.lastReload,
      version: VERSION,
      now,
    });
    return new Response(JSON.stringify(report), { headers: { "content-type": "application/json", "cache-control": "no-store" } });
  });
}
