/**
 * Issue 12's speed table ("The speed"): its rows, each with nginx, bun-floor and ours, ours ÷
 * nginx, the issue's target and whether we meet it. The phases measure the figures and hand
 * them here by goal; the main table's rows for the same figures take their targets from GOALS,
 * so the two tables cannot disagree. Printed last by run.ts and carried in the results JSON
 * (`issue12`, with a Markdown copy for the README's Performance section).
 */
import type { Mode } from "./context.ts";
import { fmt, ratioOf, type Row, type Section } from "./report.ts";

/** One figure per target; a missing one is blank in the table (the note says why). */
export interface Figures {
  nginx?: number;
  floor?: number;
  ours?: number;
  note?: string;
}

export interface Goal {
  target: string;
  pass(f: Figures): boolean | undefined;
  /** the phase that measures it (for "not measured" when --only left it out) */
  phase: string;
}

const atMost =
  (limit: number) =>
  (f: Figures): boolean | undefined =>
    f.ours === undefined || !Number.isFinite(f.ours) ? undefined : f.ours <= limit;

export const GOALS = {
  throughput: {
    target: ">= 0.6x nginx",
    phase: "requests",
    pass: (f: Figures) => (f.ours === undefined || f.nginx === undefined ? undefined : f.ours >= 0.6 * f.nginx),
  },
  cpuPerRequest: { target: "<= 40", phase: "requests", pass: atMost(40) },
  addedP50: { target: "<= 0.2", phase: "requests", pass: atMost(0.2) },
  addedP99: { target: "<= 1.0", phase: "requests", pass: atMost(1) },
  ttft1: { target: "<= 1.0", phase: "streams", pass: atMost(1) },
  ttftBurst: { target: "<= 1.0", phase: "streams", pass: atMost(1) },
  cpuPerEvent: { target: "<= 12", phase: "streams", pass: atMost(12) },
  idleRss: { target: "<= 50", phase: "startup", pass: atMost(50) },
  peakRss: { target: "<= 100", phase: "streams", pass: atMost(100) },
} satisfies Record<string, Goal>;

export type GoalKey = keyof typeof GOALS;
export type SpeedFigures = Partial<Record<GoalKey, Figures>>;

/** The target and pass of a main-table row that shows the same figure as one of the rows. */
export function goalOf(key: GoalKey, f: Figures): { target: string; pass: boolean | undefined } {
  return { target: GOALS[key].target, pass: GOALS[key].pass(f) };
}

function metrics(mode: Mode): Record<GoalKey, string> {
  const big = Math.max(...mode.concurrencies);
  return {
    throughput: `throughput, ${mode.throughputConnections} connections, instant upstream (req/s)`,
    cpuPerRequest: "CPU per non-streamed request (us)",
    addedP50: "added latency, 1 connection, p50 (ms)",
    addedP99: "added latency, 1 connection, p99 (ms)",
    ttft1: "added time to first token p99, 1 stream (ms)",
    ttftBurst: `added time to first token p99, ${mode.ttftBurst} streams at once (ms)`,
    cpuPerEvent: `CPU per relayed stream event, ${big} streams (us)`,
    idleRss: "idle RSS after the first answer (MB)",
    peakRss: `peak RSS, ${big} concurrent streams (MB)`,
  };
}

export const SPEED_TITLE = "issue 12 speed table (targets from issue 12, 'The speed'; one worker pinned to core 1)";

export function speedSection(mode: Mode, figures: SpeedFigures, phasesRun: ReadonlySet<string>): Section {
  const labels = metrics(mode);
  const rows: Row[] = (Object.keys(GOALS) as GoalKey[]).map((key) => {
    const goal: Goal = GOALS[key];
    const f = figures[key];
    if (!f) {
      const why = phasesRun.has(goal.phase) ? `phase ${goal.phase} gave no figure` : `not measured: phase ${goal.phase} not run (--only)`;
      return { metric: labels[key], values: {}, target: goal.target, note: why };
    }
    return { metric: labels[key], values: { nginx: f.nginx, floor: f.floor, ours: f.ours }, target: goal.target, pass: goal.pass(f), note: f.note };
  });
  return {
    title: SPEED_TITLE,
    columns: [
      ["nginx", "nginx"],
      ["floor", "bun-floor"],
      ["ours", "ours"],
    ],
    ratio: ["ours", "nginx"],
    noteColumn: true,
    rows,
  };
}

/** ">= 0.6x nginx" as the issue writes it: "≥ 0.6× nginx" */
const typeset = (target = "") =>
  target
    .replace("<=", "≤")
    .replace(">=", "≥")
    .replace(/(\d)x /, "$1× ");

/** The same table in Markdown, to paste into the README and the closing note. */
export function speedMarkdown(s: Section): string {
  const lines = [
    "| | nginx | bun-floor | ours | ours/nginx | target | met | note |",
    "|---|---|---|---|---|---|---|---|",
    ...s.rows.map(
      (r) =>
        `| ${r.metric} | ${fmt(r.values.nginx)} | ${fmt(r.values.floor)} | ${fmt(r.values.ours)} | ${fmt(ratioOf(r, s.ratio))} | ${typeset(r.target)} | ${
          r.pass === undefined ? "" : r.pass ? "yes" : "no"
        } | ${r.note ?? ""} |`,
    ),
  ];
  return lines.join("\n");
}

/** The table as data for the results JSON. */
export function speedJson(s: Section) {
  return {
    title: s.title,
    rows: s.rows.map((r) => ({
      metric: r.metric,
      nginx: r.values.nginx ?? null,
      bun_floor: r.values.floor ?? null,
      ours: r.values.ours ?? null,
      ours_over_nginx: ratioOf(r, s.ratio) ?? null,
      target: r.target,
      pass: r.pass ?? null,
      note: r.note ?? null,
    })),
    markdown: speedMarkdown(s),
  };
}
