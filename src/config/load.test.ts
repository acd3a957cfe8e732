import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { normaliseEndpoint } from "./env.ts";
import { loadConfig } from "./load.ts";
import { buildRoutingTable } from "./resolve.ts";

const BASE = { AZURE_OPENAI_ENDPOINT: "https://res.openai.azure.com", AZURE_OPENAI_API_KEY: "azure-secret", AUTH_KEY: "k1" };
const dir = mkdtempSync(join(tmpdir(), "azure-proxy-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function issues(env: Record<string, string | undefined>, cli = {}) {
  const result = loadConfig({ env, cli });
  return result.ok ? [] : result.issues;
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe("from the environment", () => {
  test("the seed's variables are enough, with seed defaults", () => {
    const result = loadConfig({ env: { AZURE_ENDPOINT: "https://res.openai.azure.com/", AZURE_OPENAI_API_KEY: "a", AUTH_KEY: "k1, k2" } });
    if (!result.ok) throw new Error(result.issues.join("\n"));
    expect(result.config.server).toEqual({ host: "0.0.0.0", port: 8000, workers: "auto" });
    expect(result.config.upstreams[0]!.endpoint).toBe("https://res.openai.azure.com");
    expect(result.config.upstreams[0]!.api_version).toBe("v1");
    expect(result.config.keys.map((k) => k.key)).toEqual(["k1", "k2"]);
    expect(Object.isFrozen(result.config.upstreams[0])).toBe(true);
  });

  test("each problem names its variable", () => {
    expect(issues({ ...BASE, AZURE_OPENAI_API_VERSION: "2024-10" })[0]).toStartWith("AZURE_OPENAI_API_VERSION: must be a date like 2024-10-21");
    expect(issues({ ...BASE, AZURE_OPENAI_MODEL_MAP: "gpt-4o" })[0]).toStartWith("AZURE_OPENAI_MODEL_MAP: must be comma-separated model=deployment pairs");
    expect(issues({ ...BASE, PORT: "80a" })[0]).toStartWith("PORT:");
    expect(issues({ ...BASE, PORT: "70000" })[0]).toStartWith("PORT:");
    expect(issues({ ...BASE, LOG_LEVEL: "loud" })[0]).toStartWith("LOG_LEVEL:");
    expect(issues({ ...BASE, AZURE_OPENAI_ENDPOINT: "res.openai.azure.com" })[0]).toStartWith("AZURE_OPENAI_ENDPOINT:");
    expect(issues({ ...BASE, AZURE_OPENAI_ENDPOINT: "https://res.openai.azure.com/some/path" })[0]).toContain("without a path");
    expect(issues({ ...BASE, AZURE_OPENAI_API_KEY: undefined })[0]).toStartWith("AZURE_OPENAI_API_KEY:");
    expect(issues({ AZURE_OPENAI_API_KEY: "a", AUTH_KEY: "k" }).join("\n")).toContain("AZURE_OPENAI_ENDPOINT (or AZURE_ENDPOINT): required");
  });

  test("secrets are never echoed in an issue", () => {
    const all = issues({ ...BASE, AUTH_KEY: "has space inside", AZURE_OPENAI_API_VERSION: "bad" }).join("\n");
    expect(all).toContain("AUTH_KEY:");
    expect(all).not.toContain("has space inside");
  });

  test("no client key refuses to start unless the open relay is asked for", () => {
    const { AUTH_KEY: _, ...noKeys } = BASE;
    expect(issues(noKeys).join("\n")).toContain("--insecure-no-auth");
    const open = loadConfig({ env: noKeys, cli: { insecureNoAuth: true } });
    expect(open.ok && open.config.auth.insecure_no_auth).toBe(true);
  });

  test("an empty variable counts as unset, as compose files write it", () => {
    const result = loadConfig({ env: { ...BASE, AZURE_OPENAI_API_VERSION: "", PORT: "" } });
    expect(result.ok && result.config.upstreams[0]!.api_version).toBe("v1");
  });
});

describe("from a config file", () => {
  const CONTRACT_EXAMPLE = `
upstreams:
  - name: eastus
    endpoint: https://res-eastus.openai.azure.com
    api_key: \${AZURE_KEY_EASTUS}
    api_version: 2024-10-21
    priority: 0
    weight: 1
    deployments:
      gpt-4o: gpt-4o-prod
      gpt-3.5-turbo: gpt-35-turbo
      text-embedding-3-small: text-embedding-3-small
  - name: westus
    endpoint: https://res-westus.openai.azure.com
    api_key: \${AZURE_KEY_WESTUS}
    priority: 1
    deployments: { gpt-4o: gpt-4o }
groups:
  azure: [eastus, westus]
keys:
  - name: alice
    key: \${ALICE_KEY}
    models: [gpt-4o]
    rpm: 60
    tpm: 100000
cors: { origins: ["https://chat.example.com"] }
limits: { max_body_bytes: 27262976 }
timeouts: { connect_ms: 10000, first_byte_ms: 600000, idle_ms: 300000 }
retry: { max_attempts: 3, max_wait_ms: 30000 }
`;
  const SECRETS = { AZURE_KEY_EASTUS: "east-secret", AZURE_KEY_WESTUS: "west-secret", ALICE_KEY: "alice-secret" };

  test("the docs/contract.md example loads; an unquoted date stays a date string", () => {
    const result = loadConfig({ env: SECRETS, cli: { configPath: file("contract.yaml", CONTRACT_EXAMPLE) } });
    if (!result.ok) throw new Error(result.issues.join("\n"));
    const { config } = result;
    expect(config.upstreams[0]!.api_version).toBe("2024-10-21");
    expect(config.upstreams[0]!.api_key).toBe("east-secret");
    expect(config.upstreams[1]!.api_version).toBe("v1");
    expect(config.keys[0]).toMatchObject({ name: "alice", models: ["gpt-4o"], rpm: 60 });
    const table = buildRoutingTable(config);
    expect(table.candidates("gpt-4o").map((r) => `${r.upstream.name}/${r.deployment}`)).toEqual(["eastus/gpt-4o-prod", "westus/gpt-4o"]);
    expect(table.candidates("gpt-4o", "azure")).toHaveLength(2);
    expect(table.candidates("o3")).toEqual([]);
  });

  test("JSON works too, and AUTH_KEY adds unnamed keys to the file's", () => {
    const path = file(
      "c.json",
      JSON.stringify({
        upstreams: [{ name: "a", endpoint: "https://a.openai.azure.com", api_key: "x", deployments: { m: "d" } }],
        keys: [{ name: "bob", key: "b" }],
      }),
    );
    const result = loadConfig({ env: { AUTH_KEY: "env-key" }, cli: { configPath: path } });
    if (!result.ok) throw new Error(result.issues.join("\n"));
    expect(result.config.keys.map((k) => k.name)).toEqual(["bob", "AUTH_KEY-1"]);
  });

  test("every violation is reported with its path", () => {
    const path = file(
      "bad.yaml",
      `upstreams:
  - name: a
    endpoint: https://a.openai.azure.com/openai
    api_key: x
    api_version: 2024-1-1
    weight: 0
    deployments: { m: d }
    colour: blue
  - name: a
    endpoint: https://b.openai.azure.com
    deployments: { m: d }
groups: { g: [a, nope] }
keys:
  - name: k
`,
    );
    const all = issues({}, { configPath: path }).join("\n");
    expect(all).toContain("upstreams[0].endpoint:");
    expect(all).toContain("upstreams[0].api_version:");
    expect(all).toContain("upstreams[0].weight:");
    expect(all).toContain("upstreams[0].colour: unknown field");
    const semantic = issues(
      {},
      {
        configPath: file(
          "bad2.yaml",
          `upstreams:\n  - {name: a, endpoint: "https://a.openai.azure.com", api_key: x, deployments: {m: d}}\n  - {name: a, endpoint: "https://b.openai.azure.com", deployments: {m: d}}\ngroups: { g: [a, nope] }\nkeys:\n  - name: k\n`,
        ),
      },
    ).join("\n");
    expect(semantic).toContain("upstreams[1].name: 'a' is used twice");
    expect(semantic).toContain("upstreams[1]: needs a credential");
    expect(semantic).toContain("groups.g[1]: no upstream is named 'nope'");
    expect(semantic).toContain("keys[0]: give key or key_sha256");
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: the config file's own ${VAR} syntax, not a template
  test("a missing ${VAR} is an error naming the field, and its value is never shown", () => {
    const all = issues({}, { configPath: file("vars.yaml", CONTRACT_EXAMPLE) }).join("\n");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the config file's own ${VAR} syntax
    expect(all).toContain("upstreams[0].api_key: uses ${AZURE_KEY_EASTUS}, which is not set");
  });

  test("unreadable and unparsable files are named", () => {
    expect(issues({}, { configPath: join(dir, "missing.yaml") })[0]).toContain("cannot read it (ENOENT)");
    expect(issues({}, { configPath: file("broken.yaml", "upstreams: [\n") })[0]).toContain("not valid YAML or JSON");
  });
});

describe("normaliseEndpoint", () => {
  test("accepts what people paste", () => {
    expect(normaliseEndpoint("https://r.openai.azure.com/openai/v1/")).toBe("https://r.openai.azure.com");
    expect(normaliseEndpoint("http://127.0.0.1:9100")).toBe("http://127.0.0.1:9100");
    expect(normaliseEndpoint("https://user:pw@r.openai.azure.com")).toBeInstanceOf(Error);
  });
});
