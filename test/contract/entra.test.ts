/**
 * Microsoft Entra ID to Azure instead of keys, against local fakes of the identity platform and
 * the instance metadata service: tokens are fetched once for many requests, refreshed before
 * they expire, and a refusal becomes a clear 502 (or a failover when another upstream can serve).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { configFile } from "../harness/config-file.ts";
import { chatBody, post } from "../harness/fixture.ts";
import { startIdentity, type FakeIdentity } from "../harness/identity.ts";
import { waitFor } from "../harness/processes.ts";
import { startProxy, type RunningProxy } from "../harness/proxy.ts";
import { startSimulator, type RunningSimulator } from "../harness/simulator.ts";
import { connectWebSocket } from "../../src/runtime/ws-client.ts";

const KEY = "entra-test-key";
let identity: FakeIdentity;
let sim: RunningSimulator;

beforeAll(async () => {
  identity = await startIdentity();
  sim = await startSimulator({ acceptToken: (token) => identity.isValid(token) });
});
afterAll(async () => {
  await sim.stop();
  await identity.stop();
});

// Tokens are cached per process; one worker keeps the counts below exact (the first test
// checks a pool of two).
async function proxyWith(entra: Record<string, unknown>, extraUpstreams: unknown[] = [], workers = 1): Promise<RunningProxy> {
  const file = configFile({
    upstreams: [{ name: "entra", endpoint: sim.url, api_version: "2024-10-21", entra, deployments: { "gpt-4o": "gpt-4o" } }, ...extraUpstreams],
    keys: [{ name: "t", key: KEY }],
    identity: { authority_host: identity.url, imds_endpoint: identity.url },
    retry: { default_cooldown_ms: 500 },
  });
  return startProxy({ args: ["serve", "--config", file.path, "--workers", String(workers)] });
}
const chat = (proxy: RunningProxy, text = "hi") => post(`${proxy.url}/v1/chat/completions`, chatBody(text), { authorization: `Bearer ${KEY}` });

describe("client credentials", () => {
  test("one token request per worker process serves many concurrent calls; Azure gets the bearer token, never a key", async () => {
    identity.requests.length = 0;
    identity.expiresIn = 3600;
    const proxy = await proxyWith({ tenant_id: "tenant-1", client_id: "app-1", client_secret: "right-secret" }, [], 2);
    try {
      const statuses = await Promise.all(Array.from({ length: 20 }, () => chat(proxy).then((r) => r.status)));
      expect(statuses.every((s) => s === 200)).toBe(true);
      expect(identity.requests.length).toBeGreaterThanOrEqual(1);
      expect(identity.requests.length).toBeLessThanOrEqual(2);
      expect(identity.requests[0]!.params).toMatchObject({
        grant_type: "client_credentials",
        client_id: "app-1",
        scope: "https://cognitiveservices.azure.com/.default",
        tenant: "tenant-1",
      });
      const seen = sim.recorder.all().at(-1)!;
      expect(seen.headers.authorization).toMatch(/^Bearer entra-token-\d+$/);
      expect(seen.headers["api-key"]).toBeUndefined();
      // the 20 access-log lines are out (lines are written in batches, a moment later): only
      // then does their not holding the secret or the token say anything
      await waitFor(() => proxy.output().split('"msg":"request"').length > 20, 3000, "the 20 access-log lines");
      expect(proxy.output()).not.toContain("right-secret");
      expect(proxy.output()).not.toContain("entra-token-");
    } finally {
      await proxy.stop();
    }
  });

  test("a short-lived token is refreshed before it expires, in the background", async () => {
    identity.requests.length = 0;
    identity.expiresIn = 2; // refresh at half its life: 1 s
    const proxy = await proxyWith({ tenant_id: "t", client_id: "c", client_secret: "right-secret" });
    try {
      expect((await chat(proxy)).status).toBe(200);
      const first = sim.recorder.all().at(-1)!.headers.authorization;
      await Bun.sleep(1200);
      expect((await chat(proxy)).status).toBe(200); // still the old token, refresh started
      await Bun.sleep(100);
      expect((await chat(proxy)).status).toBe(200);
      expect(sim.recorder.all().at(-1)!.headers.authorization).not.toBe(first);
      expect(identity.requests).toHaveLength(2);
    } finally {
      await proxy.stop();
      identity.expiresIn = 3600;
    }
  });

  test("a refused secret: a 502 naming the upstream and the AADSTS number; Azure's text, with the tenant and app ids, only in the log", async () => {
    const proxy = await proxyWith({ tenant_id: "tenant-5f1c0a", client_id: "app-9d2e7b", client_secret: "wrong-secret" });
    try {
      const response = await chat(proxy);
      expect(response.status).toBe(502);
      const { error } = await response.json();
      expect(error.code).toBe("upstream_auth_failed");
      expect(error.message).toContain("upstream 'entra'");
      expect(error.message).toContain("the identity platform refused a token (HTTP 401, invalid_client, AADSTS7000215)");
      const sent = JSON.stringify(error);
      for (const secret of ["wrong-secret", "tenant-5f1c0a", "app-9d2e7b", "Trace ID"]) expect(sent).not.toContain(secret);
      const logged = proxy
        .output()
        .split("\n")
        .find((line) => line.includes("Entra ID token refused"));
      expect(logged).toContain('"upstream":"entra"');
      expect(logged).toContain("AADSTS7000215: Invalid client secret provided.");
      expect(logged).toContain("app-9d2e7b");
      expect(proxy.output()).not.toContain("wrong-secret");
    } finally {
      await proxy.stop();
    }
  });

  test("an unknown tenant: the client learns AADSTS90002 from upstream 'entra', not the tenant id", async () => {
    const proxy = await proxyWith({ tenant_id: "missing-tenant-71c3", client_id: "app-1", client_secret: "right-secret" });
    try {
      const response = await chat(proxy);
      expect(response.status).toBe(502);
      const { error } = await response.json();
      expect(error.message).toContain("upstream 'entra'");
      expect(error.message).toContain("(HTTP 400, invalid_request, AADSTS90002)");
      expect(JSON.stringify(error)).not.toContain("missing-tenant-71c3");
      expect(proxy.output()).toContain("AADSTS90002: Tenant 'missing-tenant-71c3' not found.");
    } finally {
      await proxy.stop();
    }
  });

  test("...and a healthy upstream with a key takes over", async () => {
    const backup = await startSimulator();
    const proxy = await proxyWith({ tenant_id: "t", client_id: "c", client_secret: "wrong-secret" }, [
      { name: "backup", endpoint: backup.url, api_key: backup.key, priority: 1, deployments: { "gpt-4o": "gpt-4o" } },
    ]);
    try {
      expect((await chat(proxy)).status).toBe(200);
      expect(backup.recorder.all()).toHaveLength(1);
    } finally {
      await proxy.stop();
      await backup.stop();
    }
  });
});

describe("managed identity", () => {
  test("IMDS is asked with Metadata: true, the resource and the user-assigned client id", async () => {
    identity.requests.length = 0;
    const proxy = await proxyWith({ managed_identity: true, client_id: "mi-client" });
    try {
      expect((await chat(proxy)).status).toBe(200);
      expect((await chat(proxy)).status).toBe(200);
      expect(identity.requests).toHaveLength(1);
      expect(identity.requests[0]).toMatchObject({
        kind: "managed_identity",
        params: { "api-version": "2018-02-01", resource: "https://cognitiveservices.azure.com", client_id: "mi-client" },
        headers: { metadata: "true" },
      });
    } finally {
      await proxy.stop();
    }
  });
});

describe("Realtime with Entra ID", () => {
  test("the upstream handshake carries the bearer token in a header (preview path for a dated api_version), never a key or a query", async () => {
    identity.expiresIn = 3600;
    const file = configFile({
      upstreams: [
        {
          name: "entra",
          endpoint: sim.url,
          api_version: "2025-04-01-preview",
          entra: { tenant_id: "tenant-1", client_id: "app-1", client_secret: "right-secret" },
          deployments: { "gpt-realtime": "gpt-realtime" },
        },
      ],
      keys: [{ name: "t", key: KEY }],
      identity: { authority_host: identity.url, imds_endpoint: identity.url },
    });
    const proxy = await startProxy({ args: ["serve", "--config", file.path, "--workers", "1"] });
    try {
      const socket = await connectWebSocket(new URL(`ws://127.0.0.1:${proxy.port}/v1/realtime?model=gpt-realtime`), {
        headers: { authorization: `Bearer ${KEY}` },
        timeoutMs: 5000,
        maxMessageBytes: 1 << 20,
      });
      const first = await new Promise<string>((resolve) => socket.on({ message: (d) => resolve(String(d)), pong() {}, drain() {}, close() {} }));
      expect(JSON.parse(first).type).toBe("session.created");
      socket.close(1000, "");
      const seen = sim.recorder
        .all()
        .filter((r) => r.path === "/openai/realtime")
        .at(-1)!;
      expect(seen.headers.authorization).toMatch(/^Bearer entra-token-\d+$/);
      expect(seen.headers["api-key"]).toBeUndefined();
      expect(seen.query).toEqual({ "api-version": "2025-04-01-preview", deployment: "gpt-realtime" });
    } finally {
      await proxy.stop();
    }
  });
});
