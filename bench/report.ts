/**
 * The tables on stdout. A section has its own columns; the main one is direct / nginx / ours
 * with ours ÷ nginx, the number to compare across runs (absolute figures drift on a shared
 * machine). `target` and `pass` mark the goals (#4).
 */
export type Value = number | string | undefined;

export interface Row {
  metric: string;
  values: Record<string, Value>;
  /** overrides the computed ratio ("" to leave it out) */
  ratio?: Value;
  target?: string;
  pass?: boolean;
  note?: string;
}

export interface Section {
  title: string;
  columns: ReadonlyArray<readonly [key: string, label: string]>;
  /** [numerator, denominator] column keys for the ratio column */
  ratio?: readonly [string, string];
  /** notes as the last column instead of lines under the table */
  noteColumn?: boolean;
  rows: Row[];
}

export const MAIN_COLUMNS = [
  ["direct", "direct"],
  ["nginx", "nginx"],
  ["floor", "bun-floor"],
  ["ours", "ours"],
] as const;

/** A main-table row: figures for direct, nginx, ours. */
export function row(metric: string, direct: Value, nginx: Value, ours: Value, extra: Omit<Row, "metric" | "values"> & { floor?: Value } = {}): Row {
  const { floor, ...rest } = extra;
  return { metric, values: { direct, nginx, floor, ours }, ...rest };
}

export function fmt(v: Value): string {
  if (v === undefined) return "";
  if (typeof v === "string") return v;
  if (!Number.isFinite(v)) return "n/a";
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString("en-US");
  if (a >= 100 || Number.isInteger(v)) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toFixed(3);
}

export function ratioOf(r: Row, ratio: Section["ratio"]): Value {
  if (r.ratio !== undefined || !ratio) return r.ratio;
  const [num, den] = [r.values[ratio[0]], r.values[ratio[1]]];
  return typeof num === "number" && typeof den === "number" && den !== 0 ? Number((num / den).toFixed(2)) : undefined;
}

export function renderSection(s: Section): string {
  const head = [
    "",
    ...s.columns.map(([, label]) => label),
    ...(s.ratio ? [`${s.ratio[0]}/${s.ratio[1]}`] : []),
    "target",
    "",
    ...(s.noteColumn ? ["note"] : []),
  ];
  const body = s.rows.map((r) => [
    r.metric,
    ...s.columns.map(([key]) => fmt(r.values[key])),
    ...(s.ratio ? [fmt(ratioOf(r, s.ratio))] : []),
    r.target ?? "",
    r.pass === undefined ? "" : r.pass ? "met" : "MISSED",
    ...(s.noteColumn ? [r.note ?? ""] : []),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const last = head.length - (s.noteColumn ? 3 : 2);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 || i >= last ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join("  ")
      .trimEnd();
  const notes = s.rows.filter((r) => r.note && !s.noteColumn).map((r) => `  * ${r.metric}: ${r.note}`);
  return [`## ${s.title}`, line(head), line(widths.map((w) => "-".repeat(w))), ...body.map(line), ...notes].join("\n");
}
