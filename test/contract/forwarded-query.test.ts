/**
 * What of a client's query reaches Azure on the pass-through routes (proxy/prepare.ts): its own
 * parameters (pagination) do; a key it put in the query (as Realtime clients may) never does.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { configFile } from "../harness/config-file.ts";
import { startProxy, type RunningProxy } from "../harness/proxy.ts";
import { startSimulator, type RunningSimulator } from "../harness/simulator.ts";

const KEY = "forwarded-query-key-123456";
let sim: RunningSimulator;
let proxy: RunningProxy;

beforeAll(async () => {
  sim = await startSimulator({ name: "a" });
  const path = configFile({
    upstreams: [{ name: "a", endpoint: sim.url, api_key: sim.key, deployments: { "gpt-4o": "gpt-4o" } }],
    keys: [{ name: "k", key: KEY }],
    server: { workers: 1 },
  }).path;
  proxy = await startProxy({ args: ["serve", "--config", path] });
});
afterAll(async () => {
  await proxy.stop();
  await sim.stop();
});

test("a client key in the query (api-key, any case) is not sent upstream; the other parameters are", async () => {
  const answer = await fetch(`${proxy.url}/v1/files?api-key=${KEY}&limit=2&API-Key=${KEY}`, { headers: { authorization: `Bearer ${KEY}` } });
  expect(answer.status).toBe(200);
  const seen = sim.recorder
    .all()
    .filter((r) => r.path === "/openai/v1/files")
    .at(-1)!;
  expect(seen.query).toEqual({ limit: "2" });
  expect(JSON.stringify(seen)).not.toContain(KEY);
});
