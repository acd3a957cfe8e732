/**
 * Which URL styles Azure serves (docs/azure.md §1.2-1.4) and how a request finds its row in
 * the OPERATIONS table:
 *   scoped  /openai/deployments/{d}/<op>?api-version=<date>   (§1.2; the model runs there)
 *   dated   /openai/<op>?api-version=<date>                    (§1.3; files, batches, models,
 *                                                               fine_tuning, responses)
 *   v1      /openai/v1/<op>, api-version absent, v1 or preview (§1.4)
 */
import type { Capability } from "./deployments.ts";
import type { Handler } from "./operations/context.ts";

export type Method = "GET" | "POST" | "DELETE";
export type BodyKind = "json" | "multipart" | "none";

/** Which dated api-versions have an operation: all, only `-preview` ones, from a date on. */
export interface DatedRule {
  previewOnly?: boolean;
  /** First version that has it, e.g. "2025-03-01-preview" for Responses (§1.3). */
  since?: string;
}

export interface OperationRow {
  /** Path after the style prefix; `{id}` matches one segment. */
  path: string;
  method: Method;
  /** Azure's operation name, as it appears in 429 messages (§5.2: ChatCompletions_Create …). */
  azureName: string;
  scoped?: DatedRule;
  dated?: DatedRule;
  /** "preview": on the v1 preview surface only (§1.4: images, audio); see SimulatorOptions.strictV1Preview. */
  v1?: "ga" | "preview";
  body: BodyKind;
  /** Operations that run a model: the deployment must exist and its model must support this. */
  capability?: Capability;
  /** The 400 answer to `[sim filter=prompt]` when it differs from chat's (§5.2 images). */
  filterBody?: unknown;
  handle: Handler;
}

export type Style = "scoped" | "dated" | "v1";

export interface ParsedPath {
  style: Style;
  suffix: string;
  /** scoped only, URL-decoded */
  deployment?: string;
}

const V1 = /^\/openai\/v1(\/.*)$/;
const SCOPED = /^\/openai\/deployments\/([^/]+)(\/.+)$/;
const DATED = /^\/openai(\/.+)$/;
export const DATED_VERSION = /^\d{4}-\d{2}-\d{2}(-preview)?$/;

export function parsePath(pathname: string): ParsedPath | undefined {
  const v1 = V1.exec(pathname);
  if (v1) return { style: "v1", suffix: v1[1]! };
  const scoped = SCOPED.exec(pathname);
  if (scoped) return { style: "scoped", suffix: scoped[2]!, deployment: safeDecode(scoped[1]!) };
  const dated = DATED.exec(pathname);
  if (dated) return { style: "dated", suffix: dated[1]! };
  return undefined;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

const compiled = new WeakMap<OperationRow, RegExp>();
function patternOf(row: OperationRow): RegExp {
  let re = compiled.get(row);
  if (!re) {
    re = new RegExp(`^${row.path.replace(/\{[^}]+\}/g, "([^/]+)")}$`);
    compiled.set(row, re);
  }
  return re;
}

/** The row for this style, path and method, with its `{…}` parameters; undefined → 404. */
export function findRow(rows: readonly OperationRow[], parsed: ParsedPath, method: string): { row: OperationRow; params: Record<string, string> } | undefined {
  for (const row of rows) {
    if (row.method !== method || !row[parsed.style]) continue;
    const match = patternOf(row).exec(parsed.suffix);
    if (!match) continue;
    const names = [...row.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
    const params = Object.fromEntries(names.map((name, i) => [name, safeDecode(match[i + 1]!)]));
    return { row, params };
  }
  return undefined;
}

/** Whether a dated api-version has this operation (§1.2 "Preview versions only", §1.3 Responses). */
export function datedVersionAllows(rule: DatedRule, version: string): boolean {
  if (rule.previewOnly && !version.endsWith("-preview")) return false;
  if (rule.since && version.slice(0, 10) < rule.since.slice(0, 10)) return false;
  return true;
}
