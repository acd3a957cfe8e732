/**
 * The body of GET /admin/status, from plain values: the config, the cooldowns, the (summed)
 * status part and this month's usage rows. Pure: the caller supplies the time.
 *
 * A deployment's state, worst first: `unreachable` (its whole resource cools: connect failures,
 * refused credentials; see proxy/failure-table.ts), `cooling` (Azure's 429/503 Retry-After, or
 * our own guess after a 500 when `soft`), `no_headroom` (Azure's last fresh figures say it
 * would answer 429, or a provisioned deployment is at routing.ptu_spill_at), else `ok`.
 */
import type { BudgetConfig, Config } from "../config/schema.ts";
import { seriesOf, type Series } from "../metrics/minute-series.ts";
import type { UsageRow } from "../state/usage-row.ts";
import { REQUESTS_TRUST_MS, TOKENS_TRUST_MS, UTILIZATION_TRUST_MS, type HeadroomSeen } from "../upstream/headroom.ts";
import type { Cooldown } from "../upstream/health.ts";
import type { ReloadOutcome } from "./config-history.ts";
import type { StatusPart } from "./status-part.ts";

export type DeploymentState = "ok" | "cooling" | "no_headroom" | "unreachable";

export interface DeploymentStatus {
  readonly deployment: string;
  /** Model names clients send that map to it. */
  readonly models: string[];
  readonly state: DeploymentState;
  /** Epoch ms when a cooldown ends (cooling, unreachable). */
  readonly until: number | null;
  /** The cooldown is our guess (after a 500), not Azure's word. */
  readonly soft: boolean;
  readonly headroom: HeadroomSeen | null;
}

export interface UsageTotals {
  requests: number;
  tokens: number;
  cost_usd: number;
}

export interface KeyStatus {
  readonly name: string;
  readonly today: UsageTotals;
  readonly month: UsageTotals;
  readonly budget: BudgetConfig | null;
}

export interface StatusReport {
  readonly object: "status";
  readonly now: number;
  readonly version: string;
  readonly workers: number;
  readonly config: { readonly loaded_at: number; readonly last_reload: ReloadOutcome | null };
  readonly inflight: StatusPart["inflight"];
  readonly upstreams: Array<{ readonly name: string; readonly priority: number; readonly deployments: DeploymentStatus[] }>;
  readonly series: Series;
  readonly keys: KeyStatus[];
}

export interface StatusInputs {
  readonly config: Config;
  readonly cooling: readonly Cooldown[];
  readonly part: StatusPart;
  /** The ledger's rows from the first of this UTC month to today. */
  readonly rows: readonly UsageRow[];
  readonly loadedAt: number;
  readonly lastReload: ReloadOutcome | null;
  readonly version: string;
  readonly now: number;
}

export function statusReport(inputs: StatusInputs): StatusReport {
  const { config, part, now } = inputs;
  return {
    object: "status",
    now,
    version: inputs.version,
    workers: part.workers,
    config: { loaded_at: inputs.loadedAt, last_reload: inputs.lastReload },
    inflight: part.inflight,
    upstreams: upstreamsOf(config, inputs.cooling, part.headroom, now),
    series: seriesOf(part.minutes),
    keys: keysOf(config, inputs.rows, now),
  };
}

function upstreamsOf(config: Config, cooling: readonly Cooldown[], headroom: readonly HeadroomSeen[], now: number): StatusReport["upstreams"] {
  const seen = new Map(headroom.map((h) => [`${h.upstream}/${h.deployment}`, h]));
  return config.upstreams.map((upstream) => {
    const models = new Map<string, string[]>();
    for (const [model, deployment] of Object.entries(upstream.deployments)) {
      const list = models.get(deployment);
      if (list) list.push(model);
      else models.set(deployment, [model]);
    }
    const mine = cooling.filter((c) => c.upstream === upstream.name);
    // deployments named by clients (any_model) show while they cool
    for (const c of mine) if (c.deployment !== null && !models.has(c.deployment)) models.set(c.deployment, []);
    const resource = mine.filter((c) => c.deployment === null && !c.soft).reduce((max, c) => Math.max(max, c.until), 0);
    const deployments = [...models].map(([deployment, names]): DeploymentStatus => {
      const h = seen.get(`${upstream.name}/${deployment}`) ?? null;
      const base = { deployment, models: names, headroom: h };
      if (resource > now) return { ...base, state: "unreachable", until: resource, soft: false };
      const cools = mine.filter((c) => c.deployment === deployment || (c.deployment === null && c.soft));
      if (cools.length > 0) {
        // Azure's word outlasts our guess when both run
        const hard = cools.filter((c) => !c.soft);
        const ruling = hard.length > 0 ? hard : cools;
        return { ...base, state: "cooling", until: Math.max(...ruling.map((c) => c.until)), soft: hard.length === 0 };
      }
      return { ...base, state: h && isShort(h, now, config.routing.ptu_spill_at) ? "no_headroom" : "ok", until: null, soft: false };
    });
    return { name: upstream.name, priority: upstream.priority, deployments };
  });
}

/** The same reading as the selector's (upstream/headroom.ts), without what is in flight. */
function isShort(h: HeadroomSeen, now: number, ptuSpillAt: number): boolean {
  const age = now - h.at;
  if (h.utilization !== undefined && age < UTILIZATION_TRUST_MS && h.utilization >= ptuSpillAt) return true;
  if (h.requests !== undefined && age < REQUESTS_TRUST_MS && h.requests <= 0) return true;
  return h.tokens !== undefined && age < TOKENS_TRUST_MS && h.tokens <= 0;
}

/** Every configured key (a quiet one shows as 0) and any other that spent, by this month's cost, then tokens. */
function keysOf(config: Config, rows: readonly UsageRow[], now: number): KeyStatus[] {
  const today = new Date(now).toISOString().slice(0, 10);
  const budgets = budgetsOf(config);
  const byName = new Map<string, KeyStatus>();
  const entry = (name: string): KeyStatus => {
    let held = byName.get(name);
    if (!held) {
      const budget = budgets.get(name) ?? null;
      held = { name, today: zero(), month: zero(), budget };
      byName.set(name, held);
    }
    return held;
  };
  for (const key of config.keys) entry(key.name);
  for (const row of rows) {
    const key = entry(row.key);
    addRow(key.month, row);
    if (row.day === today) addRow(key.today, row);
  }
  const list = [...byName.values()];
  for (const k of list) for (const t of [k.today, k.month]) t.cost_usd = Math.round(t.cost_usd * 1e6) / 1e6;
  return list.sort((a, b) => b.month.cost_usd - a.month.cost_usd || b.month.tokens - a.month.tokens || a.name.localeCompare(b.name));
}

// a lookup by name per key (Array.find) made a poll quadratic in the number of keys: 104 ms of
// CPU per answer with 4,000 keys. The config is frozen, so its names → budgets are made once.
const BUDGETS = new WeakMap<Config, ReadonlyMap<string, KeyStatus["budget"]>>();

function budgetsOf(config: Config): ReadonlyMap<string, KeyStatus["budget"]> {
  let budgets = BUDGETS.get(config);
  if (!budgets) {
    const byName = new Map<string, KeyStatus["budget"]>();
    // the first key of a name, as a search from the start would find
    for (const k of config.keys) if (!byName.has(k.name)) byName.set(k.name, k.budget ?? null);
    budgets = byName;
    BUDGETS.set(config, budgets);
  }
  return budgets;
}

function zero(): UsageTotals {
  return { requests: 0, tokens: 0, cost_usd: 0 };
}

function addRow(totals: UsageTotals, row: UsageRow): void {
  totals.requests += row.requests;
  totals.tokens += row.prompt + row.completion;
  totals.cost_usd += row.cost;
}
