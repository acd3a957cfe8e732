/** Legacy completions, docs/azure.md §4.1-4.3, JSON and SSE, with faults. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { DEFAULT_REPLY } from "../../src/simulator/operations/chat.ts";
import { readEvents } from "../harness/sse.ts";
import { expectRateLimited, startSim, type Sim } from "./helpers.ts";

let sim: Sim;
beforeAll(async () => {
  sim = await startSim();
});
afterAll(() => sim.stop());

interface Completion {
  id: string;
  object: string;
  model: string;
  choices: Array<{ text: string; index: number; finish_reason: string | null; logprobs: null; content_filter_results: unknown }>;
  usage: { completion_tokens: number; prompt_tokens: number; total_tokens: number };
  prompt_filter_results: Array<{ prompt_index: number }>;
}

test("JSON: choices[].text, the underlying model, usage that adds up, Azure's filter results", async () => {
  for (const url of [sim.scoped("gpt-35-turbo-instruct", "/completions"), sim.v1("/completions")]) {
    const response = await sim.postJson(url, { model: "gpt-35-turbo-instruct", prompt: "Say hello", max_tokens: 20 });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Completion;
    expect(body.id).toStartWith("cmpl-");
    expect(body.object).toBe("text_completion");
    expect(body.model).toBe("gpt-35-turbo-instruct");
    expect(body.choices).toEqual([{ content_filter_results: expect.any(Object), finish_reason: "stop", index: 0, logprobs: null, text: DEFAULT_REPLY }]);
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + body.usage.completion_tokens);
    expect(body.prompt_filter_results[0]!.prompt_index).toBe(0);
  }
});

test("several prompts get one choice each, and one prompt_filter_results entry each", async () => {
  const body = (await (await sim.postJson(sim.scoped("gpt-35-turbo-instruct", "/completions"), { prompt: ["a", "b"] })).json()) as Completion;
  expect(body.choices.map((c) => c.index)).toEqual([0, 1]);
  expect(body.prompt_filter_results.map((p) => p.prompt_index)).toEqual([0, 1]);
});

test("SSE: the prompt-filter chunk first, text chunks, a finish chunk, usage on request, [DONE]", async () => {
  const response = await sim.postJson(sim.scoped("gpt-35-turbo-instruct", "/completions"), {
    prompt: "hi",
    stream: true,
    stream_options: { include_usage: true },
  });
  expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
  const events = await readEvents(response);
  expect(events.at(-1)!.data).toBe("[DONE]");
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data) as Completion & { usage: unknown });
  expect(chunks[0]).toMatchObject({ choices: [], id: "", object: "", created: 0 });
  expect(chunks[0]!.prompt_filter_results).toHaveLength(1);
  const texts = chunks.slice(1, -2);
  expect(texts.map((c) => c.choices[0]!.text).join("")).toBe(DEFAULT_REPLY);
  for (const chunk of texts) expect(chunk).toMatchObject({ object: "text_completion", model: "gpt-35-turbo-instruct", usage: null });
  expect(chunks.at(-2)!.choices[0]).toMatchObject({ text: "", finish_reason: "stop" });
  expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: texts.length } });
});

test("[sim status=429 retry_after=2] → Azure's 429 naming Completions_Create", async () => {
  const response = await sim.postJson(sim.scoped("gpt-35-turbo-instruct", "/completions"), { prompt: "[sim status=429 retry_after=2]" });
  await expectRateLimited(response, "Completions_Create", 2, expect);
});

test("[sim reset_after=3] cuts the stream without [DONE]; error_after sends the in-stream error", async () => {
  const url = sim.scoped("gpt-35-turbo-instruct", "/completions");
  const cut = await sim.postJson(url, { prompt: "[sim reset_after=3]", stream: true });
  expect(cut.status).toBe(200);
  const read = await cut.text().then(
    (text) => ({ ok: true, text }),
    () => ({ ok: false, text: "" }),
  );
  expect(read.ok && read.text.includes("[DONE]")).toBe(false);
  const errored = await readEvents(await sim.postJson(url, { prompt: "[sim error_after=2]", stream: true }));
  expect(errored).toHaveLength(4);
  expect(JSON.parse(errored[2]!.data).error.code).toBe("internal_error");
  expect(errored[3]!.data).toBe("[DONE]");
});

test("[sim filter=output] ends with finish_reason content_filter; filter=prompt is the 400", async () => {
  const body = (await (await sim.postJson(sim.v1("/completions"), { model: "gpt-35-turbo-instruct", prompt: "[sim filter=output]" })).json()) as Completion;
  expect(body.choices[0]!.finish_reason).toBe("content_filter");
  const filtered = await sim.postJson(sim.v1("/completions"), { model: "gpt-35-turbo-instruct", prompt: "[sim filter=prompt]" });
  expect(filtered.status).toBe(400);
  expect(((await filtered.json()) as { error: { code: string } }).error.code).toBe("content_filter");
});
