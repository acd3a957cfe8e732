import { describe, expect, test } from "bun:test";
import { configFromEnv, normaliseEndpoint } from "./env.ts";
import { buildRoutingTable } from "./resolve.ts";

const BASE = { AZURE_OPENAI_ENDPOINT: "https://res.openai.azure.com", AZURE_OPENAI_API_KEY: "azure-secret", AUTH_KEY: "k1" };

function issues(env: Record<string, string>, cli = {}) {
  const result = configFromEnv(env, cli);
  return result.ok ? [] : result.issues;
}

describe("configFromEnv", () => {
  test("the seed's variables are enough, with seed defaults", () => {
    const result = configFromEnv({ AZURE_ENDPOINT: "https://res.openai.azure.com/", AZURE_OPENAI_API_KEY: "a", AUTH_KEY: "k1, k2" });
    if (!result.ok) throw new Error(result.issues.join("\n"));
    expect(result.config.server).toEqual({ host: "0.0.0.0", port: 8000 });
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
    expect(issues({ AZURE_OPENAI_API_KEY: "a", AUTH_KEY: "k" })[0]).toStartWith("AZURE_OPENAI_ENDPOINT (or AZURE_ENDPOINT): required");
  });

  test("secrets are never echoed in an issue", () => {
    const all = issues({ ...BASE, AUTH_KEY: "has space inside", AZURE_OPENAI_API_VERSION: "bad" }).join("\n");
    expect(all).toContain("AUTH_KEY:");
    expect(all).not.toContain("has space inside");
  });

  test("no client key refuses to start unless the open relay is asked for", () => {
    const { AUTH_KEY: _, ...noKeys } = BASE;
    expect(issues(noKeys)[0]).toContain("--insecure-no-auth");
    const open = configFromEnv(noKeys, { insecureNoAuth: true });
    expect(open.ok && open.config.auth.insecure_no_auth).toBe(true);
  });

  test("an empty variable counts as unset, as compose files write it", () => {
    const result = configFromEnv({ ...BASE, AZURE_OPENAI_API_VERSION: "", PORT: "" });
    expect(result.ok && result.config.upstreams[0]!.api_version).toBe("v1");
  });
});

describe("normaliseEndpoint", () => {
  test("accepts what people paste", () => {
    expect(normaliseEndpoint("https://r.openai.azure.com/openai/v1/")).toBe("https://r.openai.azure.com");
    expect(normaliseEndpoint("http://127.0.0.1:9100")).toBe("http://127.0.0.1:9100");
    expect(normaliseEndpoint("https://user:pw@r.openai.azure.com")).toBeInstanceOf(Error);
  });
});

describe("routing table", () => {
  test("mapped models go to their deployment, others to the same name", () => {
    const result = configFromEnv({ ...BASE, AZURE_OPENAI_MODEL_MAP: "gpt-3.5-turbo=gpt-35-turbo,gpt-4o=prod-4o", AZURE_OPENAI_API_VERSION: "2024-10-21" });
    if (!result.ok) throw new Error("invalid");
    const table = buildRoutingTable(result.config);
    expect(table.resolve("gpt-4o")!.deployment).toBe("prod-4o");
    expect(table.resolve("o3-mini")!.deployment).toBe("o3-mini");
    expect(table.resolve("gpt-4o")!.upstream.style).toBe("dated");
    expect(table.listedModels).toEqual(["gpt-3.5-turbo", "gpt-4o"]);
  });
});
