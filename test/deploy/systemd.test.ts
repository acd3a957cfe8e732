/**
 * deploy/azure-proxy.service and deploy/azure-proxy.env.example. systemd is not PID 1 here, so
 * the unit cannot be started; what can be proven offline is: systemd itself accepts the unit
 * without a single warning (`systemd-analyze verify`), its sandbox rates "OK" or better
 * (`systemd-analyze security --offline`), the exit code it refuses to restart on is the one the
 * binary uses for bad configuration, and the example env file is one the binary accepts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { runProxyCommand } from "../harness/proxy.ts";
import { buildBinary, parseEnvFile, readmeEnvNames, requireTool, ROOT, substitute } from "./tools.ts";

const ANALYZE = "/usr/bin/systemd-analyze";
const unitText = readFileSync(resolve(ROOT, "deploy/azure-proxy.service"), "utf8");
const envText = readFileSync(resolve(ROOT, "deploy/azure-proxy.env.example"), "utf8");
let built: { dir: string; binary: string };
let unitDir: string;
let unitPath: string;

/** The unit's [Service] settings; a key set twice keeps every value, as systemd does. */
function serviceSettings(): Map<string, string[]> {
  const settings = new Map<string, string[]>();
  let section = "";
  for (const raw of unitText.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1]!;
      continue;
    }
    if (section !== "Service") continue;
    const eq = line.indexOf("=");
    const key = line.slice(0, eq);
    settings.set(key, [...(settings.get(key) ?? []), line.slice(eq + 1)]);
  }
  return settings;
}

function analyze(args: string[]) {
  const result = Bun.spawnSync([ANALYZE, ...args], { env: { PATH: "/usr/bin:/bin", SYSTEMD_LOG_COLOR: "0" } });
  return { code: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

beforeAll(() => {
  requireTool(ANALYZE, "systemd");
  built = buildBinary("azure-proxy-systemd-");
  // verify insists that ExecStart's program exists. Point a copy at the binary just built; the
  // shipped unit keeps /usr/local/bin, where the install steps in its header put it.
  unitDir = mkdtempSync(join(tmpdir(), "azure-proxy-unit-"));
  unitPath = join(unitDir, "azure-proxy.service");
  writeFileSync(unitPath, substitute(unitText, "ExecStart=/usr/local/bin/azure-proxy serve", `ExecStart=${built.binary} serve`));
}, 60_000);

afterAll(() => {
  if (built) rmSync(built.dir, { recursive: true, force: true });
  if (unitDir) rmSync(unitDir, { recursive: true, force: true });
});

describe("deploy/azure-proxy.service", () => {
  test("systemd-analyze verify accepts it without a warning", () => {
    const result = analyze(["verify", "--man=no", unitPath]);
    expect(`${result.stdout}${result.stderr}`).toBe("");
    expect(result.code).toBe(0);
  });

  test("its sandbox rates OK or better in systemd-analyze security", () => {
    const result = analyze(["security", "--offline=true", "--no-pager", unitPath]);
    const score = /Overall exposure level for azure-proxy\.service: ([\d.]+)/.exec(result.stdout);
    if (!score) throw new Error(`no exposure level in:\n${result.stdout}${result.stderr}`);
    // 0 is a fully locked-down service, 10 an unsandboxed one; systemd calls ≤ 3.9 "OK".
    expect(Number(score[1])).toBeLessThanOrEqual(2.5);
  });

  test("has the settings operators rely on", () => {
    const s = serviceSettings();
    const one = (key: string) => s.get(key)?.at(-1);
    expect(one("ExecStart")).toBe("/usr/local/bin/azure-proxy serve");
    expect(one("EnvironmentFile")).toBe("/etc/azure-proxy/azure-proxy.env");
    expect(one("ExecReload")).toBe("/bin/kill -HUP $MAINPID");
    expect(one("Restart")).toBe("on-failure");
    expect(one("RestartPreventExitStatus")).toBe("2");
    expect(one("KillSignal")).toBe("SIGTERM");
    expect(one("TimeoutStopSec")).toBeDefined();
    expect(Number(one("LimitNOFILE"))).toBeGreaterThanOrEqual(65536);
    for (const key of ["DynamicUser", "NoNewPrivileges", "ProtectHome", "PrivateTmp", "PrivateDevices"]) expect(one(key)).toBe("yes");
    expect(one("ProtectSystem")).toBe("strict");
    // The embedded JavaScript engine JITs into W+X memory; this setting would kill it at start.
    expect(s.has("MemoryDenyWriteExecute")).toBe(false);
  });

  test("exit code 2, where it stops restarting, is the binary's code for invalid configuration", async () => {
    const bad = await runProxyCommand(
      ["serve"],
      { PATH: "/usr/bin:/bin", ...Object.fromEntries(parseEnvFile(envText)), AZURE_OPENAI_API_VERSION: "not-a-version" },
      [built.binary],
    );
    expect(bad.stderr).toContain("AZURE_OPENAI_API_VERSION");
    expect(bad.code).toBe(2);
  });
});

describe("deploy/azure-proxy.env.example", () => {
  test("names only variables of the README's table, as set or commented-out lines", () => {
    const documented = readmeEnvNames();
    const named = [...envText.matchAll(/^#?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(0);
    for (const name of named) expect(documented).toContain(name);
    const set = parseEnvFile(envText);
    for (const required of ["AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", "AUTH_KEY"]) expect(set.has(required)).toBe(true);
  });

  test("is a configuration the binary accepts, and `check` masks its secrets", async () => {
    const env = Object.fromEntries(parseEnvFile(envText));
    const result = await runProxyCommand(["check"], { PATH: "/usr/bin:/bin", ...env }, [built.binary]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain(env.AZURE_OPENAI_API_KEY!);
    expect(result.stdout).not.toContain(env.AUTH_KEY!);
  });
});
