/**
 * Object ownership (with state.path): files, batches, vector stores, fine-tuning jobs and stored
 * responses belong to the key that created them. Another key gets a 404 (nothing sent to Azure)
 * and does not see them in lists, with paging that still works in OpenAI's SDK; admin keys see
 * all; an object made before ownership was kept is the admins' only; it all survives a restart.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI, { toFile } from "openai";
import { configFile } from "../harness/config-file.ts";
import { startProxy, type RunningProxy } from "../harness/proxy.ts";
import { startSimulator, type RunningSimulator } from "../harness/simulator.ts";
import { readEvents } from "../harness/sse.ts";

let sim: RunningSimulator;
let proxy: RunningProxy;
let file: ReturnType<typeof configFile>;
const KEYS = { alice: "owner-alice-key", bob: "owner-bob-key", ops: "owner-ops-key" };
const clients = {} as Record<keyof typeof KEYS, OpenAI>;

const upstreamCalls = (method: string, path: string) => sim.recorder.all().filter((r) => r.method === method && r.path === path).length;
const statusOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 200,
    (error: { status?: number }) => error.status ?? -1,
  );

beforeAll(async () => {
  sim = await startSimulator();
  const path = join(mkdtempSync(join(tmpdir(), "azure-proxy-owners-")), "state.db");
  file = configFile({
    upstreams: [{ name: "east", endpoint: sim.url, api_key: sim.key, api_version: "v1", deployments: { "gpt-4o": "gpt-4o" } }],
    keys: [
      { name: "alice", key: KEYS.alice },
      { name: "bob", key: KEYS.bob },
      { name: "ops", key: KEYS.ops, admin: true },
    ],
    state: { path },
  });
  proxy = await startProxy({ args: ["serve", "--config", file.path, "--workers", "1"] });
  for (const [name, key] of Object.entries(KEYS)) clients[name as keyof typeof KEYS] = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: key, maxRetries: 0 });
});
afterAll(async () => {
  await proxy.stop();
  await sim.stop();
});

describe("objects belong to the key that created them", () => {
  test("files: another key gets 404 (not sent upstream) and does not see it listed; an admin sees all", async () => {
    const { alice, bob, ops } = clients;
    const mine = await alice.files.create({ file: await toFile(new TextEncoder().encode('{"a":1}\n'), "a.jsonl"), purpose: "batch" });
    const theirs = await bob.files.create({ file: await toFile(new TextEncoder().encode('{"b":1}\n'), "b.jsonl"), purpose: "batch" });
    const before = upstreamCalls("GET", `/openai/v1/files/${mine.id}`);
    const denied = await bob.files.retrieve(mine.id).catch((e) => e);
    expect(denied.status).toBe(404);
    expect(denied.error).toMatchObject({ type: "invalid_request_error", code: "not_found", param: "id" });
    expect(await statusOf(bob.files.delete(mine.id))).toBe(404);
    expect(await statusOf(bob.files.content(mine.id))).toBe(404);
    expect(upstreamCalls("GET", `/openai/v1/files/${mine.id}`)).toBe(before);
    expect((await alice.files.retrieve(mine.id)).id).toBe(mine.id);

    const listed = async (client: OpenAI) => (await client.files.list()).data.map((f) => f.id);
    expect(await listed(alice)).toContain(mine.id);
    expect(await listed(alice)).not.toContain(theirs.id);
    expect(await listed(bob)).not.toContain(mine.id);
    expect(await listed(ops)).toEqual(expect.arrayContaining([mine.id, theirs.id]));
    expect((await ops.files.retrieve(theirs.id)).id).toBe(theirs.id);
  });

  test("batches, vector stores and fine-tuning jobs", async () => {
    const { alice, bob } = clients;
    const input = await alice.files.create({ file: await toFile(new TextEncoder().encode('{"custom_id":"1"}\n'), "in.jsonl"), purpose: "batch" });
    const batch = await alice.batches.create({ input_file_id: input.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
    const store = await alice.vectorStores.create({ name: "alice's" });
    const job = await alice.fineTuning.jobs.create({ model: "gpt-4o", training_file: input.id });
    expect(await statusOf(bob.batches.retrieve(batch.id))).toBe(404);
    expect(await statusOf(bob.batches.cancel(batch.id))).toBe(404);
    expect(await statusOf(bob.vectorStores.retrieve(store.id))).toBe(404);
    expect(await statusOf(bob.fineTuning.jobs.retrieve(job.id))).toBe(404);
    expect(await statusOf(bob.fineTuning.jobs.listEvents(job.id))).toBe(404);
    expect((await alice.batches.retrieve(batch.id)).id).toBe(batch.id);
    expect((await alice.vectorStores.retrieve(store.id)).id).toBe(store.id);
    expect((await alice.fineTuning.jobs.retrieve(job.id)).id).toBe(job.id);
    expect((await bob.batches.list()).data.map((b) => b.id)).not.toContain(batch.id);
    expect((await alice.batches.list()).data.map((b) => b.id)).toContain(batch.id);
  });

  test("stored responses, created plain or streamed", async () => {
    const { alice, bob } = clients;
    const plain = await alice.responses.create({ model: "gpt-4o", input: "remember me" });
    expect(await statusOf(bob.responses.retrieve(plain.id))).toBe(404);
    expect(await statusOf(bob.responses.delete(plain.id))).toBe(404);
    expect((await alice.responses.retrieve(plain.id)).id).toBe(plain.id);

    const streamed = await fetch(`${proxy.url}/v1/responses`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEYS.alice}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o", input: "streamed", stream: true }),
    });
    const events = await readEvents(streamed);
    const id = (JSON.parse(events[0]!.data) as { response: { id: string } }).response.id;
    expect(id).toStartWith("resp");
    expect(await statusOf(bob.responses.retrieve(id))).toBe(404);
    expect((await alice.responses.retrieve(id)).id).toBe(id);
  });

  test("another key's object named in a body (previous_response_id, input_file_id, training_file, file_id(s), vector_store_ids) is a 404 naming the field, not sent upstream", async () => {
    const { alice, bob } = clients;
    const file = await alice.files.create({ file: await toFile(new TextEncoder().encode('{"custom_id":"secret"}\n'), "s.jsonl"), purpose: "batch" });
    const response = await alice.responses.create({ model: "gpt-4o", input: "alice's secret conversation" });
    const store = await alice.vectorStores.create({ name: "alice's store" });
    const bobs = await bob.vectorStores.create({ name: "bob's store" });
    const marker = `ref-${crypto.randomUUID()}`;
    const attempts: Array<[string, string, Record<string, unknown>, string]> = [
      ["/v1/responses", "POST", { model: "gpt-4o", input: marker, previous_response_id: response.id }, "previous_response_id"],
      // the same field behind a \u escape is still the same field to a JSON parser
      ["/v1/responses", "POST", { model: "gpt-4o", input: marker, ESCAPED: response.id }, "previous_response_id"],
      [
        "/v1/responses",
        "POST",
        {
          model: "gpt-4o",
          input: [
            {
              role: "user",
              content: [
                { type: "input_file", file_id: file.id },
                { type: "input_text", text: marker },
              ],
            },
          ],
        },
        "file_id",
      ],
      [
        "/v1/responses",
        "POST",
        { model: "gpt-4o", input: marker, tools: [{ type: "file_search", vector_store_ids: [bobs.id, store.id] }] },
        "vector_store_ids",
      ],
      [
        "/v1/chat/completions",
        "POST",
        {
          model: "gpt-4o",
          messages: [
            {
              role: "user",
              content: [
                { type: "text", text: marker },
                { type: "file", file: { file_id: file.id } },
              ],
            },
          ],
        },
        "file_id",
      ],
      ["/v1/batches", "POST", { input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h", metadata: { m: marker } }, "input_file_id"],
      ["/v1/fine_tuning/jobs", "POST", { model: "gpt-4o", training_file: file.id, suffix: marker }, "training_file"],
      [`/v1/vector_stores/${bobs.id}/files`, "POST", { file_id: file.id, attributes: { m: marker } }, "file_id"],
      ["/v1/vector_stores", "POST", { name: marker, file_ids: [file.id] }, "file_ids"],
    ];
    for (const [path, method, body, param] of attempts) {
      const text = JSON.stringify(body).replace('"ESCAPED"', '"previous\\u005fresponse_id"');
      const denied = await fetch(`${proxy.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${KEYS.bob}`, "content-type": "application/json" },
        body: text,
      });
      expect({ path, param, status: denied.status }).toEqual({ path, param, status: 404 });
      expect(((await denied.json()) as { error: Record<string, unknown> }).error).toMatchObject({ type: "invalid_request_error", code: "not_found", param });
    }
    expect(sim.recorder.all().filter((r) => r.bodyText.includes(marker))).toHaveLength(0);
    // the owner may name its own objects, and a file_id in metadata is not a reference
    const own = await alice.responses.create({ model: "gpt-4o", input: "go on", previous_response_id: response.id, metadata: { file_id: "file-nobody" } });
    expect(own.id).toStartWith("resp");
    expect((await alice.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" })).input_file_id).toBe(file.id);
  });

  test("a batch's output file, made by Azure, is its owner's: the owner downloads it, another key gets 404", async () => {
    const { alice, bob } = clients;
    const input = await alice.files.create({ file: await toFile(new TextEncoder().encode('{"custom_id":"1"}\n'), "in.jsonl"), purpose: "batch" });
    const batch = await alice.batches.create({ input_file_id: input.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
    expect((await fetch(`${sim.url}/_sim/batches/${batch.id}/complete`, { method: "POST" })).status).toBe(200);
    const done = await alice.batches.retrieve(batch.id);
    expect(done.status).toBe("completed");
    const output = done.output_file_id!;
    expect(await statusOf(bob.files.retrieve(output))).toBe(404);
    expect(await (await alice.files.content(output)).text()).toContain('"custom_id":"1"');
    expect(await statusOf(bob.files.content(output))).toBe(404);
    expect((await alice.files.list()).data.map((f) => f.id)).toContain(output);
  });

  test("a list's after/before cursor naming another key's object is a 404 naming it; the key's own cursor pages on", async () => {
    const { alice, bob } = clients;
    const theirs = await alice.vectorStores.create({ name: "alice's cursor" });
    const mine = await bob.vectorStores.create({ name: "bob's cursor" });
    const before = sim.recorder.all().length;
    for (const param of ["after", "before"]) {
      const denied = await fetch(`${proxy.url}/v1/vector_stores?limit=5&${param}=${theirs.id}`, { headers: { authorization: `Bearer ${KEYS.bob}` } });
      expect(denied.status).toBe(404);
      expect(((await denied.json()) as { error: Record<string, unknown> }).error).toMatchObject({ code: "not_found", param });
    }
    expect(sim.recorder.all().length).toBe(before);
    const own = await fetch(`${proxy.url}/v1/vector_stores?limit=5&after=${mine.id}`, { headers: { authorization: `Bearer ${KEYS.bob}` } });
    expect(own.status).toBe(200);
    expect(((await own.json()) as { data: Array<{ id: string }> }).data.map((s) => s.id)).not.toContain(theirs.id);
  });

  test("lists stay pageable: the SDK's auto-paging finds exactly a key's objects among many others", async () => {
    const { alice, bob, ops } = clients;
    const mine: string[] = [];
    for (let i = 0; i < 15; i++) {
      if (i % 5 === 0) mine.push((await alice.vectorStores.create({ name: `alice ${i}` })).id);
      else await bob.vectorStores.create({ name: `bob ${i}` });
    }
    const seen: string[] = [];
    for await (const store of alice.vectorStores.list({ limit: 2 })) seen.push(store.id);
    expect(seen.filter((id) => mine.includes(id)).sort()).toEqual([...mine].sort());
    const alicesAll = seen.length;
    expect(alicesAll).toBeGreaterThanOrEqual(3);
    const others: string[] = [];
    for await (const store of bob.vectorStores.list({ limit: 2 })) others.push(store.id);
    expect(others.some((id) => mine.includes(id))).toBe(false);
    let all = 0;
    for await (const _ of ops.vectorStores.list({ limit: 5 })) all++;
    expect(all).toBe(alicesAll + others.length);
  });

  test("an object made before ownership was kept (not through this proxy) is for admin keys only", async () => {
    const direct = await fetch(`${sim.url}/openai/v1/vector_stores`, {
      method: "POST",
      headers: { "api-key": sim.key, "content-type": "application/json" },
      body: JSON.stringify({ name: "legacy" }),
    });
    const legacy = ((await direct.json()) as { id: string }).id;
    expect(await statusOf(clients.alice.vectorStores.retrieve(legacy))).toBe(404);
    expect((await clients.ops.vectorStores.retrieve(legacy)).id).toBe(legacy);
  });

  test("ownership survives a restart", async () => {
    const store = await clients.alice.vectorStores.create({ name: "kept" });
    await proxy.stop();
    proxy = await startProxy({ args: ["serve", "--config", file.path, "--workers", "1"] });
    const alice = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: KEYS.alice, maxRetries: 0 });
    const bob = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: KEYS.bob, maxRetries: 0 });
    expect((await alice.vectorStores.retrieve(store.id)).id).toBe(store.id);
    expect(await statusOf(bob.vectorStores.retrieve(store.id))).toBe(404);
  });
});

describe("with worker processes", () => {
  test("the primary keeps the owners: every worker refuses another key's object and lists only the key's own", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "azure-proxy-owners-workers-")), "state.db");
    const config = configFile({
      upstreams: [{ name: "east", endpoint: sim.url, api_key: sim.key, api_version: "v1", deployments: { "gpt-4o": "gpt-4o" } }],
      keys: [
        { name: "alice", key: KEYS.alice },
        { name: "bob", key: KEYS.bob },
      ],
      state: { path },
    });
    const pool = await startProxy({ args: ["serve", "--config", config.path, "--workers", "2"] });
    try {
      // a new connection per call: the kernel spreads them over both workers
      const as = (key: string) => new OpenAI({ baseURL: `${pool.url}/v1`, apiKey: key, maxRetries: 0, defaultHeaders: { connection: "close" } });
      const store = await as(KEYS.alice).vectorStores.create({ name: "pool" });
      for (let i = 0; i < 6; i++) {
        expect(await statusOf(as(KEYS.bob).vectorStores.retrieve(store.id))).toBe(404);
        expect((await as(KEYS.alice).vectorStores.retrieve(store.id)).id).toBe(store.id);
      }
      expect((await as(KEYS.bob).vectorStores.list()).data.map((s) => s.id)).not.toContain(store.id);
    } finally {
      expect(await pool.stop()).toBe(0);
    }
  });
});
