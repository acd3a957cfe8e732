/** The official `openai` npm client, unchanged but for base URL and key, works through the proxy. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI, { AzureOpenAI, toFile } from "openai";
import { DEFAULT_REPLY } from "../../src/simulator/operations/chat.ts";
import { CLIENT_KEY, startStack, type Stack } from "../harness/fixture.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ AZURE_OPENAI_API_VERSION: "2024-10-21", AZURE_OPENAI_MODEL_MAP: "gpt-3.5-turbo=gpt-35-turbo" });
});
afterAll(() => stack.stop());

const messages = [{ role: "user" as const, content: "Hello" }];

describe("OpenAI class at /v1", () => {
  const client = () => new OpenAI({ baseURL: `${stack.proxy.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });

  test("non-streaming", async () => {
    const completion = await client().chat.completions.create({ model: "gpt-3.5-turbo", messages });
    expect(completion.choices[0]!.message.content).toBe(DEFAULT_REPLY);
    expect(completion.usage!.total_tokens).toBeGreaterThan(0);
  });

  test("streaming, with usage", async () => {
    const stream = await client().chat.completions.create({ model: "gpt-4o", messages, stream: true, stream_options: { include_usage: true } });
    let text = "";
    let usage = 0;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? "";
      usage = chunk.usage?.total_tokens ?? usage;
    }
    expect(text).toBe(DEFAULT_REPLY);
    expect(usage).toBeGreaterThan(0);
  });

  test("errors surface as the SDK's typed errors with Azure's status and retry hint", async () => {
    const error = await client()
      // its own deployment: a 429 cools the deployment it came from
      .chat.completions.create({ model: "gpt-4.1", messages: [{ role: "user", content: "[sim status=429 retry_after=3]" }] })
      .catch((e) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error.status).toBe(429);
    expect(error.headers.get("retry-after")).toBe("3");
    const bad = await client()
      .chat.completions.create({ model: "gpt-4o", messages: [] })
      .catch((e) => e);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect(bad.param).toBe("messages");
    const wrongKey = await new OpenAI({ baseURL: `${stack.proxy.url}/v1`, apiKey: "nope", maxRetries: 0 }).chat.completions
      .create({ model: "gpt-4o", messages })
      .catch((e) => e);
    expect(wrongKey).toBeInstanceOf(OpenAI.AuthenticationError);
  });

  test("a mid-stream break raises in the SDK instead of ending quietly", async () => {
    const stream = await client().chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "[sim reset_after=4]" }], stream: true });
    const outcome = await (async () => {
      for await (const _ of stream) {
        // consume
      }
      return "ended quietly";
    })().catch((e) => e);
    expect(outcome).toBeInstanceOf(OpenAI.APIError);
  });
});

describe("AzureOpenAI class at the proxy's root", () => {
  const client = () => new AzureOpenAI({ endpoint: stack.proxy.url, apiKey: CLIENT_KEY, apiVersion: "2024-10-21", maxRetries: 0 });

  test("non-streaming, deployment from the model", async () => {
    const completion = await client().chat.completions.create({ model: "gpt-4o", messages });
    expect(completion.choices[0]!.message.content).toBe(DEFAULT_REPLY);
    expect(stack.sim.recorder.all().at(-1)!.path).toBe("/openai/deployments/gpt-4o/chat/completions");
  });

  test("streaming, with a client-level deployment", async () => {
    const azure = new AzureOpenAI({ endpoint: stack.proxy.url, apiKey: CLIENT_KEY, apiVersion: "2024-10-21", deployment: "gpt-3.5-turbo", maxRetries: 0 });
    const stream = await azure.chat.completions.create({ model: "", messages, stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    expect(text).toBe(DEFAULT_REPLY);
    expect(stack.sim.recorder.all().at(-1)!.path).toBe("/openai/deployments/gpt-35-turbo/chat/completions");
  });

  test("files and batches at the dated paths it uses reach Azure's v1 API, without the client's api-version", async () => {
    const last = () => stack.sim.recorder.all().at(-1)!;
    const jsonl = new TextEncoder().encode('{"custom_id":"1"}\n');
    const file = await client().files.create({ file: await toFile(jsonl, "in.jsonl"), purpose: "batch" });
    expect(last().path).toBe("/openai/v1/files");
    expect(last().query).toEqual({});
    expect(last().headers["api-key"]).toBe(stack.sim.key);
    expect(last().files!.map((f) => [f.name, f.size])).toEqual([["file", jsonl.length]]);
    expect((await client().files.list({ purpose: "batch" })).data.map((f) => f.id)).toContain(file.id);
    expect(last().query).toEqual({ purpose: "batch" });
    expect(new Uint8Array(await (await client().files.content(file.id)).arrayBuffer())).toEqual(jsonl);
    expect(last().path).toBe(`/openai/v1/files/${file.id}/content`);

    const batch = await client().batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
    expect(last().path).toBe("/openai/v1/batches");
    expect((await client().batches.retrieve(batch.id)).id).toBe(batch.id);
    expect((await client().batches.cancel(batch.id)).status).toBe("cancelling");
    expect(last().path).toBe(`/openai/v1/batches/${batch.id}/cancel`);

    // with a client-level deployment the Node SDK sends /openai/deployments/{d}/batches
    const withDeployment = new AzureOpenAI({
      endpoint: stack.proxy.url,
      apiKey: CLIENT_KEY,
      apiVersion: "2024-10-21",
      deployment: "gpt-3.5-turbo",
      maxRetries: 0,
    });
    const second = await withDeployment.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
    expect(second.input_file_id).toBe(file.id);
    expect(last().path).toBe("/openai/v1/batches");
    expect(last().query).toEqual({});

    expect((await client().files.delete(file.id)).deleted).toBe(true);
    expect(last().method).toBe("DELETE");
  });

  test("the dated resource paths keep the relays' checks: a wrong key never reaches Azure, an encoded step is refused", async () => {
    const before = stack.sim.recorder.all().length;
    const denied = await fetch(`${stack.proxy.url}/openai/files?api-version=2024-10-21`, { headers: { "api-key": "wrong" } });
    expect(denied.status).toBe(401);
    expect((await denied.json()).error.code).toBe("invalid_api_key");
    const stepped = await fetch(`${stack.proxy.url}/openai/files/file-1%2F..%2F..%2Fchat%2Fcompletions?api-version=2024-10-21`, {
      headers: { "api-key": CLIENT_KEY },
    });
    expect(stepped.status).toBe(400);
    expect((await stepped.json()).error.code).toBe("invalid_url");
    const put = await fetch(`${stack.proxy.url}/openai/deployments/gpt-4o/batches?api-version=2024-10-21`, {
      method: "PUT",
      headers: { "api-key": CLIENT_KEY },
    });
    expect(put.status).toBe(404);
    expect(stack.sim.recorder.all().length).toBe(before);
  });
});
