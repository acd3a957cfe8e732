/**
 * GET /admin/usage?since=&until=&by=key,model,day&format=json|csv: the usage ledger, for admin
 * keys (`keys[].admin: true`). No key is a 401 (client-auth.ts), a key that is not an admin's
 * a 403. Days are UTC; since defaults to 7 days back, until to today.
 */
import { Elysia } from "elysia";
import { Failure } from "../lib/failure.ts";
import { parseDay, parseSince, periodProblem } from "../state/period.ts";
import type { Prices } from "../state/prices.ts";
import { buildReport, parseBy, reportCsv } from "../state/report.ts";
import type { Spending } from "../state/spending.ts";
import { utcDay } from "../state/usage-row.ts";
import { contextOf } from "./request-context.ts";

export interface AdminUsageDeps {
  readonly spending: Spending;
  readonly prices: Prices;
  readonly clock: () => number;
}

export function adminUsage({ spending, prices, clock }: AdminUsageDeps) {
  return new Elysia({ name: "admin-usage" }).get("/admin/usage", async ({ request }) => {
    requireAdmin(request, "/admin/usage");
    const query = contextOf(request).url.searchParams;
    const now = clock();
    const since = parseSince(query.get("since") ?? "7d", now);
    if (since instanceof Error) throw invalid("since", since.message);
    const until = parseDay(query.get("until") ?? utcDay(now));
    if (until instanceof Error) throw invalid("until", until.message);
    const problem = periodProblem(since, until);
    if (problem) throw invalid("since", problem);
    const by = parseBy(query.get("by") ?? "key,model,day");
    if (typeof by === "string") throw invalid("by", by);
    const format = query.get("format") ?? "json";
    if (format !== "json" && format !== "csv") throw invalid("format", `must be json or csv, got "${format}"`);
    const report = buildReport(await spending.report(since, until), by, since, until, prices);
    if (format === "csv") return new Response(reportCsv(report), { headers: { "content-type": "text/csv; charset=utf-8" } });
    return Response.json(report);
  });
}

/** Admin routes (/admin/*): a key that is not an admin's is a 403 (no key at all is client-auth.ts's 401). */
export function requireAdmin(request: Request, path: string): void {
  const { client } = contextOf(request);
  if (!client.admin)
    throw new Failure("forbidden", `The key '${client.name}' is not an admin key (keys[].admin); ${path} needs one.`, { code: "admin_key_required" });
}

function invalid(param: string, message: string): Failure {
  return new Failure("invalid_request", `Invalid '${param}': ${message}.`, { param, code: "invalid_value" });
}
