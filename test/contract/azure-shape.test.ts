/**
 * Clients configured for Azure (AzureOpenAI SDK, NextChat's and LobeChat's Azure modes) talk to
 * the proxy as if it were an Azure resource: deployment paths, api-version, `api-key`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chatBody, CLIENT_KEY, startStack, type Stack } from "../harness/fixture.ts";
import { contentOf, readEvents } from "../harness/sse.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ AZURE_OPENAI_API_VERSION: "v1", AZURE_OPENAI_MODEL_MAP: "chat=gpt-4o-mini" });
});
afterAll(() => stack.stop());

const azurePost = (path: string, body: unknown, headers: Record<string, string> = { "api-key": CLIENT_KEY }) =>
  fetch(`${stack.proxy.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

describe("Azure-shaped routes", () => {
  test("/openai/deployments/{d}/chat/completions with api-key: the path's deployment is looked up like a model", async () => {
    const response = await azurePost("/openai/deployments/chat/chat/completions?api-version=2024-10-21", { messages: [{ role: "user", content: "hi" }] });
    expect(response.status).toBe(200);
    expect((await response.json()).model).toBe("gpt-4o-mini-2024-07-18");
    const seen = stack.sim.recorder.all().at(-1)!;
    expect(seen.path).toBe("/openai/v1/chat/completions");
    expect(JSON.parse(seen.bodyText).model).toBe("gpt-4o-mini");
    expect(seen.headers["api-key"]).toBe(stack.sim.key);
  });

  test("a deployment-path upload without a model field reaches the v1 API with the deployment as model", async () => {
    const form = new FormData();
    form.append("file", new File([new Uint8Array(2048).fill(7)], "a.wav", { type: "audio/wav" }));
    form.append("response_format", "json");
    const response = await fetch(`${stack.proxy.url}/openai/deployments/whisper/audio/transcriptions?api-version=2024-10-21`, {
      method: "POST",
      headers: { "api-key": CLIENT_KEY },
      body: form,
    });
    expect(response.status).toBe(200);
    const seen = stack.sim.recorder.all().at(-1)!;
    expect(seen.path).toBe("/openai/v1/audio/transcriptions");
    expect(seen.fields).toEqual({ response_format: "json", model: "whisper" });
    expect(seen.files!.map((f) => [f.name, f.size])).toEqual([["file", 2048]]);
  });

  test("the deployment in the path wins over a model in the body", async () => {
    const response = await azurePost("/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21", chatBody("x", { model: "something-else" }));
    expect(response.status).toBe(200);
    expect(JSON.parse(stack.sim.recorder.all().at(-1)!.bodyText).model).toBe("gpt-4o");
  });

  test("/openai/v1/chat/completions streams with a Bearer key", async () => {
    const response = await azurePost("/openai/v1/chat/completions", chatBody("x", { stream: true, model: "chat" }), { authorization: `Bearer ${CLIENT_KEY}` });
    expect(response.status).toBe(200);
    const events = await readEvents(response);
    expect(events.at(-1)!.data).toBe("[DONE]");
    expect(contentOf(events).length).toBeGreaterThan(0);
  });

  test("a wrong api-key is a 401 that never reaches Azure", async () => {
    const before = stack.sim.recorder.all().length;
    const response = await azurePost("/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21", chatBody(), { "api-key": "nope" });
    expect(response.status).toBe(401);
    expect((await response.json()).error.code).toBe("invalid_api_key");
    expect(stack.sim.recorder.all().length).toBe(before);
  });

  test("validation applies in Azure shape too", async () => {
    const response = await azurePost("/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21", { messages: "hi" });
    expect(response.status).toBe(400);
    expect((await response.json()).error.param).toBe("messages");
  });
});
