/**
 * docker-compose.yml, parsed as YAML by PyYAML (no Docker here to run `docker compose config`).
 * It must stay the Flask proxy's drop-in: same service, port and variable names, and every
 * variable one the README documents. Its environment, interpolated the way Compose does with a
 * user's .env, must be a configuration the binary accepts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { runProxyCommand } from "../harness/proxy.ts";
import { buildBinary, readmeEnvNames, requireTool, ROOT } from "./tools.ts";

const PYTHON = "/usr/bin/python3";
/** The variables of the Flask proxy's compose file: what users' .env files hold today. */
const SEED_NAMES = ["AZURE_OPENAI_API_KEY", "AZURE_ENDPOINT", "AZURE_OPENAI_API_VERSION", "AUTH_KEY"];

interface Service {
  build?: { context?: string } | string;
  ports?: string[];
  environment?: Record<string, string> | string[];
  restart?: string;
  healthcheck?: { test?: string[] };
}
let service: Service;
let built: { dir: string; binary: string };

beforeAll(() => {
  requireTool(PYTHON, "python3");
  const parse = Bun.spawnSync([
    PYTHON,
    "-c",
    "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
    resolve(ROOT, "docker-compose.yml"),
  ]);
  if (parse.exitCode !== 0)
    throw new Error(`docker-compose.yml is not valid YAML (or PyYAML is missing: apt-get install -y python3-yaml):\n${parse.stderr.toString()}`);
  const compose = JSON.parse(parse.stdout.toString()) as { services?: Record<string, Service> };
  service = compose.services?.azure_proxy as Service;
  built = buildBinary("azure-proxy-compose-");
}, 60_000);

afterAll(() => {
  if (built) rmSync(built.dir, { recursive: true, force: true });
});

function environment(): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) return Object.fromEntries(env.map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]));
  return env;
}

/** Compose's ${VAR}, ${VAR:-default} and ${VAR:?error} against the given variables. */
function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g, (_, name: string, op: string | undefined, arg: string) => {
    const set = vars[name];
    if (op?.endsWith("-")) return set ? set : arg;
    if (op?.endsWith("?") && !set) throw new Error(`compose would refuse to start: ${name}: ${arg}`);
    return set ?? "";
  });
}

describe("docker-compose.yml", () => {
  test("keeps the Flask proxy's service on port 8000, built from the Dockerfile, restarting", () => {
    expect(service).toBeDefined();
    const context = typeof service.build === "string" ? service.build : service.build?.context;
    expect(context).toBe(".");
    expect(service.ports).toEqual(["8000:8000"]);
    expect(["always", "unless-stopped", "on-failure"]).toContain(service.restart!);
  });

  test("uses the seed's variable names, and only names from the README's env table", () => {
    const names = Object.keys(environment());
    for (const seed of SEED_NAMES) expect(names).toContain(seed);
    const documented = readmeEnvNames();
    for (const name of names) expect(documented).toContain(name);
  });

  test("health-checks with the binary, as the Dockerfile's HEALTHCHECK does", () => {
    expect(service.healthcheck?.test).toEqual(["CMD", "/azure-proxy", "healthcheck"]);
    const dockerfile = readFileSync(resolve(ROOT, "Dockerfile"), "utf8");
    const instruction = /^HEALTHCHECK .*CMD (\[.*\])$/m.exec(dockerfile);
    expect(["CMD", ...JSON.parse(instruction![1]!)]).toEqual(service.healthcheck!.test!);
  });

  test("with a user's .env of the four seed variables, gives a configuration the binary accepts", async () => {
    const dotenv = {
      AZURE_OPENAI_API_KEY: "azure-key-from-dotenv",
      AZURE_ENDPOINT: "https://myres.openai.azure.com",
      AZURE_OPENAI_API_VERSION: "2024-10-21",
      AUTH_KEY: "client-key-from-dotenv",
    };
    const env = Object.fromEntries(Object.entries(environment()).map(([k, v]) => [k, interpolate(String(v), dotenv)]));
    const result = await runProxyCommand(["check"], { PATH: "/usr/bin:/bin", ...env }, [built.binary]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("https://myres.openai.azure.com");
    expect(result.stdout).toContain('"api_version": "2024-10-21"');
    // And without AUTH_KEY, compose itself stops before a container that would exit 2.
    const { AUTH_KEY: _, ...missing } = dotenv;
    expect(() => interpolate(environment().AUTH_KEY!, missing)).toThrow(/AUTH_KEY/);
  });
});
