/**
 * The usage report, shared by `GET /admin/usage` and `azure-proxy usage`: the ledger's rows
 * summed by the chosen dimensions, with totals and the models that had no price.
 */
import { unpriced, type Prices } from "./prices.ts";
import { csvField, terminalText } from "./report-text.ts";
import { addInto, type UsageRow } from "./usage-row.ts";

export const DIMENSIONS = ["key", "model", "upstream", "day"] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export interface ReportLine {
  readonly group: Partial<Record<Dimension, string>>;
  requests: number;
  prompt_tokens: number;
  cached_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cost_usd: number;
}

export interface Report {
  readonly object: "usage_report";
  readonly since: string;
  readonly until: string;
  readonly by: readonly Dimension[];
  readonly data: Array<Partial<Record<Dimension, string>> & Omit<ReportLine, "group">>;
  readonly totals: Omit<ReportLine, "group">;
  /** Models used in the period with no entry in `prices`: their cost is counted as 0. */
  readonly unpriced: string[];
}

/** "key,model" → the dimensions, or an error message naming what is wrong. */
export function parseBy(text: string): Dimension[] | string {
  const parts = text
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
  const wrong = parts.filter((p) => !(DIMENSIONS as readonly string[]).includes(p));
  if (wrong.length > 0 || parts.length === 0) return `unknown grouping '${wrong.join(",")}'; use one or more of ${DIMENSIONS.join(", ")}`;
  return [...new Set(parts)] as Dimension[];
}

export function buildReport(rows: readonly UsageRow[], by: readonly Dimension[], since: string, until: string, prices: Prices): Report {
  const groups = new Map<string, { group: Partial<Record<Dimension, string>>; sums: UsageRow }>();
  const total = { day: "", key: "", model: "", upstream: "", requests: 0, prompt: 0, cached: 0, completion: 0, cost: 0 };
  for (const row of rows) {
    const id = by.map((d) => row[d]).join("\u0000");
    let entry = groups.get(id);
    if (!entry) {
      entry = { group: Object.fromEntries(by.map((d) => [d, row[d]])), sums: { ...row, requests: 0, prompt: 0, cached: 0, completion: 0, cost: 0 } };
      groups.set(id, entry);
    }
    addInto(entry.sums, row);
    addInto(total, row);
  }
  const line = (s: Pick<UsageRow, "requests" | "prompt" | "cached" | "completion" | "cost">) => ({
    requests: s.requests,
    prompt_tokens: s.prompt,
    cached_tokens: s.cached,
    completion_tokens: s.completion,
    total_tokens: s.prompt + s.completion,
    cost_usd: roundUsd(s.cost),
  });
  const data = [...groups.values()].sort((a, b) => compareGroups(a.group, b.group, by)).map(({ group, sums }) => ({ ...group, ...line(sums) }));
  return { object: "usage_report", since, until, by, data, totals: line(total), unpriced: unpricedIn(rows, prices) };
}

/**
 * Models that cost 0 although they used tokens and have no price now: judged from the rows, so
 * a report without the config (`usage` with only AZURE_PROXY_STATE_PATH) still names them.
 */
function unpricedIn(rows: readonly UsageRow[], prices: Prices): string[] {
  return unpriced(
    prices,
    rows.filter((r) => r.cost === 0 && r.prompt + r.completion > 0).map((r) => r.model),
  );
}

const COLUMNS = ["requests", "prompt_tokens", "cached_tokens", "completion_tokens", "total_tokens", "cost_usd"] as const;

export function reportCsv(report: Report): string {
  const header = [...report.by, ...COLUMNS].join(",");
  const lines = report.data.map((d) => [...report.by.map((b) => csvField(d[b] ?? "")), ...COLUMNS.map((c) => String(d[c]))].join(","));
  return `${[header, ...lines].join("\n")}\n`;
}

/** Aligned columns for a terminal: names left, numbers right, a total line, then the unpriced models. */
export function reportTable(report: Report): string {
  const head = [...report.by, "requests", "prompt", "cached", "completion", "total", "cost_usd"];
  const cells = (d: Partial<Record<Dimension, string>> & Omit<ReportLine, "group">) => [
    ...report.by.map((b) => terminalText(d[b] ?? "")),
    ...COLUMNS.map((c) => (c === "cost_usd" ? d.cost_usd.toFixed(4) : d[c].toLocaleString("en-US"))),
  ];
  const body = report.data.map(cells);
  const totalRow = cells({ ...Object.fromEntries(report.by.map((b, i) => [b, i === 0 ? "TOTAL" : ""])), ...report.totals });
  const all = [head, ...body, totalRow];
  const widths = head.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  const named = head.length - COLUMNS.length;
  const format = (r: string[]) =>
    r
      .map((c, i) => (i < named ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join("  ")
      .trimEnd();
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  const lines = [`usage ${report.since} .. ${report.until} (UTC)`, format(head), rule, ...body.map(format), rule, format(totalRow)];
  if (report.data.length === 0) lines.splice(3, 0, "(no calls in this period)");
  if (report.unpriced.length > 0) lines.push("", `unpriced (counted at 0 USD; add them to prices): ${report.unpriced.map(terminalText).join(", ")}`);
  return `${lines.join("\n")}\n`;
}

function compareGroups(a: Partial<Record<Dimension, string>>, b: Partial<Record<Dimension, string>>, by: readonly Dimension[]): number {
  for (const d of by) {
    const order = (a[d] ?? "").localeCompare(b[d] ?? "");
    if (order !== 0) return order;
  }
  return 0;
}

function roundUsd(usd: number): number {
  return Math.round(usd * 1e8) / 1e8;
}
