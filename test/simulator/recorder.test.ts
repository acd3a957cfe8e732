/** What the recorder keeps: digests of every body and file, bounded text, bounded history. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createSimulator } from "../../src/simulator/app.ts";
import { BODY_TEXT_LIMIT, Recorder } from "../../src/simulator/recorder.ts";
import { binary, sha256, startSim, type Sim } from "./helpers.ts";

let sim: Sim;
beforeAll(async () => {
  sim = await startSim();
});
afterAll(() => sim.stop());

test("JSON bodies are kept exactly, with their size and SHA-256", async () => {
  const text = '{"input":"héllo","model":"text-embedding-3-small"}';
  await sim.postJson(sim.v1("/embeddings"), text);
  const seen = sim.last();
  expect(seen.bodyText).toBe(text);
  expect(seen.bodyTruncated).toBe(false);
  const bytes = new TextEncoder().encode(text);
  expect(seen.bodySize).toBe(bytes.length);
  expect(seen.bodySha256).toBe(sha256(bytes));
  expect(seen.fields).toBeUndefined();
  expect(seen.completed).toBe(true);
});

test("a 25 MB upload: its hash and size are recorded, its text is cut at the limit", async () => {
  const big = binary(25 * 1024 * 1024);
  const form = new FormData();
  form.set("model", "whisper");
  form.set("file", new File([big], "long.wav", { type: "audio/wav" }));
  const response = await sim.postForm(sim.v1("/audio/transcriptions"), form);
  expect(response.status).toBe(200);
  const seen = sim.last();
  expect(seen.files).toEqual([{ name: "file", filename: "long.wav", size: big.length, sha256: sha256(big), contentType: "audio/wav" }]);
  expect(seen.bodySize).toBeGreaterThan(big.length);
  expect(seen.bodyTruncated).toBe(true);
  expect(seen.bodyText.length).toBe(BODY_TEXT_LIMIT);
});

test("the history is bounded by count and by total text", () => {
  const recorder = new Recorder();
  const url = new URL("http://sim/openai/v1/files");
  const request = new Request(url, { method: "POST" });
  const mib = "x".repeat(1024 * 1024);
  for (let i = 0; i < 100; i++) recorder.record(request, url, mib);
  const kept = recorder.all();
  expect(kept.reduce((n, r) => n + r.bodyText.length, 0)).toBeLessThanOrEqual(32 * 1024 * 1024);
  expect(kept.at(-1)!.seq).toBe(100);
  for (let i = 0; i < 1200; i++) recorder.record(request, url, "{}");
  expect(recorder.all()).toHaveLength(1000);
});

test("the control paths list and reset what was received", async () => {
  const listed = (await (await fetch(`${sim.url}/_sim/requests`)).json()) as unknown[];
  expect(listed.length).toBe(sim.recorder.all().length);
  await fetch(`${sim.url}/_sim/reset`, { method: "POST" });
  expect(sim.recorder.all()).toHaveLength(0);
});

test("strictV1Preview: v1-preview operations need api-version=preview", async () => {
  const strict = createSimulator({ apiKey: "k", strictV1Preview: true });
  const call = (query: string) =>
    strict.fetch(
      new Request(`http://sim/openai/v1/images/generations${query}`, {
        method: "POST",
        headers: { "api-key": "k" },
        body: JSON.stringify({ model: "dall-e-3", prompt: "x" }),
      }),
    );
  expect((await call("")).status).toBe(404);
  expect((await call("?api-version=preview")).status).toBe(200);
  const embeddings = await strict.fetch(
    new Request("http://sim/openai/v1/embeddings", {
      method: "POST",
      headers: { "api-key": "k" },
      body: JSON.stringify({ model: "text-embedding-3-small", input: "x" }),
    }),
  );
  expect(embeddings.status).toBe(200);
});
