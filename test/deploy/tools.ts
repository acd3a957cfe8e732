/**
 * Shared by the deploy tests. They prove the deployment files against the real tools (nginx,
 * systemd-analyze, buildah, PyYAML), so a missing tool is a failure that says how to get it,
 * never a silent skip: a skipped test would let a broken file ship as "green".
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dir, "../..");

export function requireTool(path: string, debianPackage: string): string {
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: run \`bash .ci/install-deploy-deps\` (as root) or \`apt-get install -y ${debianPackage}\``);
  }
  return path;
}

/** A port nothing listens on right now, on 127.0.0.1 (the only address these tests use). */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

/** Build the binary the way `npm run build` does, into a fresh temp dir; returns its path. */
export function buildBinary(prefix: string): { dir: string; binary: string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const binary = join(dir, "azure-proxy");
  const build = Bun.spawnSync([process.execPath, resolve(ROOT, "scripts/build.ts"), "--outfile", binary], { cwd: ROOT });
  if (build.exitCode !== 0) throw new Error(`build failed: ${build.stderr.toString()}`);
  return { dir, binary };
}

/** Replace `from` with `to` exactly `times` times, or throw: the example file must not drift. */
export function substitute(text: string, from: string, to: string, times = 1): string {
  const found = text.split(from).length - 1;
  if (found !== times) throw new Error(`expected ${times} × ${JSON.stringify(from)} in the example, found ${found}`);
  return text.replaceAll(from, to);
}

/**
 * The variable names of the README's environment table (its first column), so the deploy
 * files can be checked against what users read. Throws when the table is not found.
 */
export function readmeEnvNames(): Set<string> {
  const readme = readFileSync(resolve(ROOT, "README.md"), "utf8");
  const lines = readme.split("\n");
  const header = lines.findIndex((l) => /^\|\s*variable\s*\|/.test(l));
  if (header === -1) throw new Error("README.md has no `| variable | ...` environment table");
  const names = new Set<string>();
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith("|")) break;
    const first = line.split("|")[1] ?? "";
    for (const m of first.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) names.add(m[1]!);
  }
  if (names.size === 0) throw new Error("README.md's environment table lists no variables");
  return names;
}

/** KEY=value lines of an env file as systemd's EnvironmentFile= reads them (comments skipped). */
export function parseEnvFile(text: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const eq = line.indexOf("=");
    if (eq <= 0) throw new Error(`not KEY=value: ${line}`);
    vars.set(
      line.slice(0, eq).trim(),
      line
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, "$1"),
    );
  }
  return vars;
}
