/**
 * The rings of src/ (README, "Layout"): a folder imports only folders inside its own ring, never
 * one further out; `elysia` only in src/http; the Bun and Deno globals only in src/runtime; no
 * import cycles between files. Read from the source text, so a new edge fails here before review.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

/** Outermost first. A folder may import itself and any folder after it. */
export const RINGS = [
  "main.ts",
  "cli",
  "cluster",
  "app",
  "simulator",
  "http",
  "realtime",
  "status",
  "state",
  "proxy",
  "metrics",
  "stream",
  "ratelimit",
  "upstream",
  "config",
  "runtime",
  "lib",
  "version.ts",
] as const;

const SRC = resolve(import.meta.dir, "../src");

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return walk(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

interface SourceFile {
  readonly path: string; // relative to src/
  readonly ring: string;
  readonly code: string; // comments removed
  readonly imports: readonly { readonly spec: string; readonly typeOnly: boolean }[];
}

const IMPORT = /(?:^|\n)\s*(import|export)\s+(type\s+)?(?:[^;"']*?\sfrom\s+)?["']([^"']+)["']/g;

function ringOf(path: string): string {
  return path.split("/")[0]!;
}

function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
}

const files: SourceFile[] = walk(SRC).map((abs) => {
  const path = relative(SRC, abs);
  const code = stripComments(readFileSync(abs, "utf8"));
  const imports = [...code.matchAll(IMPORT)].map((m) => ({ spec: m[3]!, typeOnly: m[2] !== undefined }));
  return { path, ring: ringOf(path), code, imports };
});

function target(file: SourceFile, spec: string): string | undefined {
  if (!spec.startsWith(".")) return undefined;
  return relative(SRC, resolve(dirname(join(SRC, file.path)), spec));
}

describe("rings", () => {
  test("every folder of src/ has a ring", () => {
    const unknown = [...new Set(files.map((f) => f.ring))].filter((r) => !(RINGS as readonly string[]).includes(r));
    expect(unknown).toEqual([]);
  });

  test("no folder imports one further out", () => {
    const outward: string[] = [];
    for (const file of files) {
      const from = RINGS.indexOf(file.ring as (typeof RINGS)[number]);
      for (const { spec } of file.imports) {
        const to = target(file, spec);
        if (to === undefined) continue;
        if (to.startsWith("..")) {
          // package.json (the version) is the only file outside src/ that src/ reads
          if (!to.endsWith("package.json")) outward.push(`${file.path} -> ${to}`);
          continue;
        }
        if (RINGS.indexOf(ringOf(to) as (typeof RINGS)[number]) < from) outward.push(`${file.path} -> ${to}`);
      }
    }
    expect(outward).toEqual([]);
  });

  test("elysia only in src/http", () => {
    const misplaced = files
      .filter((f) => f.ring !== "http" && f.imports.some((i) => i.spec === "elysia" || i.spec.startsWith("@elysiajs/")))
      .map((f) => f.path);
    expect(misplaced).toEqual([]);
  });

  test("the Bun and Deno globals only in src/runtime", () => {
    // unit tests run under `bun test` by design (they import bun:test), so only shipped code counts
    const misplaced = files.filter((f) => f.ring !== "runtime" && !f.path.endsWith(".test.ts") && /\b(?:Bun|Deno)\.[a-zA-Z]/.test(f.code)).map((f) => f.path);
    expect(misplaced).toEqual([]);
  });

  test("no import cycles", () => {
    const edges = new Map<string, string[]>();
    for (const file of files) {
      edges.set(
        file.path,
        file.imports.map((i) => target(file, i.spec)).filter((t): t is string => t !== undefined && !t.startsWith("..")),
      );
    }
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const stack: string[] = [];
    const visit = (node: string) => {
      state.set(node, "open");
      stack.push(node);
      for (const next of edges.get(node) ?? []) {
        if (state.get(next) === "open") cycles.push([...stack.slice(stack.indexOf(next)), next].join(" -> "));
        else if (!state.has(next)) visit(next);
      }
      stack.pop();
      state.set(node, "done");
    };
    for (const node of edges.keys()) if (!state.has(node)) visit(node);
    expect(cycles).toEqual([]);
  });

  test("the check sees imports at all (guards against a regex that matches nothing)", () => {
    const app = files.find((f) => f.path === "http/app.ts")!;
    expect(app.imports.some((i) => i.spec === "elysia")).toBe(true);
    expect(files.length).toBeGreaterThan(100);
  });
});
