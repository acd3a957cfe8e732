/**
 * Every operation through the proxy with the official `openai` client (base URL and key
 * changed, nothing else), in both upstream API styles: what the client gets, and what reached
 * Azure. Each operation also has a bad-input case (400, nothing forwarded) and an Azure-error
 * case (status and retry hints kept).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import OpenAI, { AzureOpenAI, toFile } from "openai";
import { chatBody, CLIENT_KEY, post, startStack, type Stack } from "../harness/fixture.ts";

const STYLES = [
  { name: "dated API (2025-04-01-preview)", version: "2025-04-01-preview", prefix: (d: string) => `/openai/deployments/${d}` },
  { name: "v1 API", version: "v1", prefix: () => "/openai/v1" },
] as const;

const wav = new Uint8Array(4096).map((_, i) => (i * 7) % 256);
const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

for (const style of STYLES) {
  describe(`operations via the ${style.name}`, () => {
    let stack: Stack;
    let client: OpenAI;
    beforeAll(async () => {
      stack = await startStack({
        AZURE_OPENAI_API_VERSION: style.version,
        AZURE_OPENAI_MODEL_MAP: "text-embedding-3-small=text-embedding-3-small,whisper-1=whisper,tts-1=tts,gpt-4o=gpt-4o",
      });
      client = new OpenAI({ baseURL: `${stack.proxy.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });
    });
    afterAll(() => stack.stop());
    const last = () => stack.sim.recorder.all().at(-1)!;
    const count = () => stack.sim.recorder.all().length;

    test("embeddings: strings, token arrays, base64 (the SDK's default) decoded by the client", async () => {
      const result = await client.embeddings.create({ model: "text-embedding-3-small", input: ["hello", "world"], dimensions: 8 });
      expect(result.data).toHaveLength(2);
      expect(result.data[0]!.embedding).toHaveLength(8);
      expect(last().path).toBe(`${style.prefix("text-embedding-3-small")}/embeddings`);
      const tokens = await client.embeddings.create({
        model: "text-embedding-3-small",
        input: [
          [1, 2, 3],
          [4, 5],
        ],
        encoding_format: "float",
      });
      expect(tokens.data).toHaveLength(2);
      expect(JSON.parse(last().bodyText).input).toEqual([
        [1, 2, 3],
        [4, 5],
      ]);
      const bad = await post(`${stack.proxy.url}/v1/embeddings`, { model: "text-embedding-3-small", input: "" });
      expect(bad.status).toBe(400);
      expect((await bad.json()).error.param).toBe("input");
      const limited = await client.embeddings.create({ model: "text-embedding-3-small", input: "[sim status=429 retry_after=2]" }).catch((e) => e);
      expect(limited.status).toBe(429);
      expect(limited.headers.get("retry-after")).toBe("2");
    });

    test("image generation: b64 for gpt-image-1; a missing prompt never reaches Azure", async () => {
      const image = await client.images.generate({ model: "gpt-image-1", prompt: "a red square" });
      expect(image.data![0]!.b64_json!.length).toBeGreaterThan(10);
      const before = count();
      const bad = await post(`${stack.proxy.url}/v1/images/generations`, { model: "gpt-image-1" });
      expect(bad.status).toBe(400);
      expect((await bad.json()).error.param).toBe("prompt");
      expect(count()).toBe(before);
    });

    test("image edits: multipart upload forwarded byte for byte", async () => {
      const png = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, ...new Array(500).fill(7)]);
      const edited = await client.images.edit({ model: "gpt-image-1", prompt: "make it blue", image: await toFile(png, "in.png", { type: "image/png" }) });
      expect(edited.data![0]!.b64_json).toBeTruthy();
      const seen = last() as unknown as { files?: Array<{ sha256: string }> };
      expect(seen.files?.[0]?.sha256).toBe(sha(png));
    });

    test("audio transcription: the file arrives byte for byte, the format is kept", async () => {
      const text = await client.audio.transcriptions.create({
        model: "whisper-1",
        file: await toFile(wav, "a.wav", { type: "audio/wav" }),
        response_format: "text",
      });
      expect(typeof text).toBe("string");
      const seen = last() as unknown as { files?: Array<{ sha256: string; size: number }>; fields?: Record<string, string> };
      expect(seen.files?.[0]?.sha256).toBe(sha(wav));
      if (style.version === "v1") expect(seen.fields?.model).toBe("whisper");
      else expect(last().path).toBe("/openai/deployments/whisper/audio/transcriptions");
      const json = await client.audio.transcriptions.create({ model: "whisper-1", file: await toFile(wav, "a.wav") });
      expect(typeof json.text).toBe("string");
      const before = count();
      const form = new FormData();
      form.set("model", "whisper-1");
      const missing = await fetch(`${stack.proxy.url}/v1/audio/transcriptions`, {
        method: "POST",
        headers: { authorization: `Bearer ${CLIENT_KEY}` },
        body: form,
      });
      expect(missing.status).toBe(400);
      expect((await missing.json()).error.param).toBe("file");
      expect(count()).toBe(before);
    });

    test("audio translation with an upstream 500 keeps the status", async () => {
      const ok = await client.audio.translations.create({ model: "whisper-1", file: await toFile(wav, "a.wav") });
      expect(typeof ok.text).toBe("string");
      const failed = await client.audio.translations
        .create({ model: "whisper-1", file: await toFile(wav, "a.wav"), prompt: "[sim status=500]" })
        .catch((e) => e);
      expect(failed.status).toBe(500);
    });

    test("speech: binary audio streamed back with its content type", async () => {
      const response = await client.audio.speech.create({ model: "tts-1", voice: "alloy", input: "hello there" });
      const bytes = new Uint8Array(await response.arrayBuffer());
      expect(bytes.byteLength).toBeGreaterThan(100);
      expect(response.headers.get("content-type")).toBeTruthy();
      const bad = await post(`${stack.proxy.url}/v1/audio/speech`, { model: "tts-1", voice: "alloy", input: "x".repeat(5000) });
      expect(bad.status).toBe(400);
      expect((await bad.json()).error.param).toBe("input");
    });

    test("responses: create, stream, retrieve, input items, delete", async () => {
      const created = await client.responses.create({ model: "gpt-4o", input: "Say hi" });
      expect(created.output_text.length).toBeGreaterThan(0);
      const stored = await client.responses.retrieve(created.id);
      expect(stored.id).toBe(created.id);
      const items = await client.responses.inputItems.list(created.id);
      expect(items.data.length).toBeGreaterThan(0);
      const stream = await client.responses.create({ model: "gpt-4o", input: "Say hi", stream: true });
      let text = "";
      let completed = false;
      for await (const event of stream) {
        if (event.type === "response.output_text.delta") text += event.delta;
        if (event.type === "response.completed") completed = true;
      }
      expect(completed).toBe(true);
      expect(text.length).toBeGreaterThan(0);
      await client.responses.delete(created.id);
      const gone = await client.responses.retrieve(created.id).catch((e) => e);
      expect(gone.status).toBe(404);
    });

    test("a Responses stream cut by Azure ends with an error event, not a quiet end", async () => {
      const response = await post(`${stack.proxy.url}/v1/responses`, { model: "gpt-4o", input: "[sim reset_after=3]", stream: true });
      const text = await response.text();
      expect(text).toContain("upstream_stream_broken");
    });

    test("models: the mapped models in OpenAI's list shape", async () => {
      const models = [];
      for await (const m of client.models.list()) models.push(m.id);
      expect(models).toEqual(["text-embedding-3-small", "whisper-1", "tts-1", "gpt-4o"]);
      expect((await client.models.retrieve("gpt-4o")).object).toBe("model");
      const missing = await client.models.retrieve("nope").catch((e) => e);
      expect(missing.status).toBe(404);
    });

    test("files: upload, list, retrieve, content, delete, relayed to the v1 API", async () => {
      const jsonl = new TextEncoder().encode('{"custom_id":"1"}\n');
      const file = await client.files.create({ file: await toFile(jsonl, "batch.jsonl"), purpose: "batch" });
      expect(file.id).toBeTruthy();
      expect(last().path).toBe("/openai/v1/files");
      const list = await client.files.list();
      expect(list.data.some((f) => f.id === file.id)).toBe(true);
      expect((await client.files.retrieve(file.id)).id).toBe(file.id);
      const content = await client.files.content(file.id);
      expect(new Uint8Array(await content.arrayBuffer())).toEqual(jsonl);
      await client.files.delete(file.id);
      expect(last().headers["api-key"]).toBe(stack.sim.key);
      expect(last().headers.authorization).toBeUndefined();
    });

    test("chat still works, and bad input still never reaches Azure", async () => {
      expect((await post(`${stack.proxy.url}/v1/chat/completions`, chatBody())).status).toBe(200);
    });
  });
}

describe("operations a style does not have get a clear answer", () => {
  test("completions on the v1 API are forwarded: served when Azure serves them", async () => {
    const stack = await startStack({ AZURE_OPENAI_API_VERSION: "v1" });
    try {
      const response = await post(`${stack.proxy.url}/v1/completions`, { model: "gpt-35-turbo-instruct", prompt: "hi" });
      expect(response.status).toBe(200);
      expect((await response.json()).choices[0].text.length).toBeGreaterThan(0);
      expect(stack.sim.recorder.all().at(-1)!.path).toBe("/openai/v1/completions");
    } finally {
      await stack.stop();
    }
  });

  test("completions on the v1 API: only Azure's own 404 becomes the 404 naming the setting to change", async () => {
    const stack = await startStack({ AZURE_OPENAI_API_VERSION: "v1" });
    try {
      const before = stack.sim.recorder.all().length;
      const response = await post(`${stack.proxy.url}/v1/completions`, { model: "gpt-35-turbo-instruct", prompt: "hi [sim status=404]" });
      expect(response.status).toBe(404);
      const { error } = await response.json();
      expect(error.code).toBe("operation_not_available");
      expect(error.message).toContain("AZURE_OPENAI_API_VERSION");
      expect(stack.sim.recorder.all().length).toBe(before + 1);
      // other errors keep their meaning
      const limited = await post(`${stack.proxy.url}/v1/completions`, { model: "gpt-35-turbo-instruct", prompt: "hi [sim status=429]" });
      expect(limited.status).toBe(429);
      const unknown = await post(`${stack.proxy.url}/v1/completions`, { model: "no-such-deployment", prompt: "hi" });
      expect(unknown.status).toBe(404);
      expect((await unknown.json()).error.code).not.toBe("operation_not_available");
    } finally {
      await stack.stop();
    }
  });

  test("speech on a GA dated version: 404 saying it needs a preview version; completions work there", async () => {
    const stack = await startStack({ AZURE_OPENAI_API_VERSION: "2024-10-21" });
    try {
      const speech = await post(`${stack.proxy.url}/v1/audio/speech`, { model: "tts", voice: "alloy", input: "hi" });
      expect(speech.status).toBe(404);
      expect((await speech.json()).error.message).toContain("preview");
      const client = new OpenAI({ baseURL: `${stack.proxy.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });
      const completion = await client.completions.create({ model: "gpt-35-turbo-instruct", prompt: "Say hi" });
      expect(completion.choices[0]!.text.length).toBeGreaterThan(0);
      const stream = await client.completions.create({ model: "gpt-35-turbo-instruct", prompt: "Say hi", stream: true });
      let text = "";
      for await (const chunk of stream) text += chunk.choices[0]?.text ?? "";
      expect(text.length).toBeGreaterThan(0);
    } finally {
      await stack.stop();
    }
  });
});

describe("Azure-shaped clients (AzureOpenAI class at the proxy's root)", () => {
  for (const upstreamVersion of ["2025-04-01-preview", "v1"]) {
    test(`every operation, upstream ${upstreamVersion}`, async () => {
      const stack = await startStack({ AZURE_OPENAI_API_VERSION: upstreamVersion });
      try {
        const azure = new AzureOpenAI({ endpoint: stack.proxy.url, apiKey: CLIENT_KEY, apiVersion: "2025-04-01-preview", maxRetries: 0 });
        const seenPath = () => stack.sim.recorder.all().at(-1)!.path;
        const expected = (deployment: string, op: string) => (upstreamVersion === "v1" ? `/openai/v1${op}` : `/openai/deployments/${deployment}${op}`);

        const embedding = await azure.embeddings.create({ model: "text-embedding-3-small", input: "hi" });
        expect(embedding.data).toHaveLength(1);
        expect(seenPath()).toBe(expected("text-embedding-3-small", "/embeddings"));

        const image = await azure.images.generate({ model: "dall-e-3", prompt: "a cat" });
        expect(image.data![0]!.url).toBeTruthy();
        expect(seenPath()).toBe(expected("dall-e-3", "/images/generations"));

        const transcript = await azure.audio.transcriptions.create({ model: "whisper", file: await toFile(wav, "a.wav") });
        expect(typeof transcript.text).toBe("string");
        expect(seenPath()).toBe(expected("whisper", "/audio/transcriptions"));

        const speech = await azure.audio.speech.create({ model: "tts", voice: "alloy", input: "hi" });
        expect((await speech.arrayBuffer()).byteLength).toBeGreaterThan(100);

        // not deployment-scoped in the dated API: /openai/responses
        const response = await azure.responses.create({ model: "gpt-4o", input: "hi" });
        expect(response.output_text.length).toBeGreaterThan(0);
        expect(seenPath()).toBe(upstreamVersion === "v1" ? "/openai/v1/responses" : "/openai/responses");
        expect((await azure.responses.retrieve(response.id)).id).toBe(response.id);

        const bad = await azure.embeddings.create({ model: "text-embedding-3-small", input: [] as string[] }).catch((e) => e);
        expect(bad.status).toBe(400);
      } finally {
        await stack.stop();
      }
    });
  }
});

describe("reasoning models", () => {
  test("max_tokens becomes max_completion_tokens for the listed models only, its value's text kept", async () => {
    const stack = await startStack({ AZURE_OPENAI_MAX_COMPLETION_TOKENS_MODELS: "o1*,gpt-4.1" });
    try {
      const body = (model: string) => `{"model":"${model}","messages":[{"role":"user","content":"hi"}],"max_tokens":100}`;
      await post(`${stack.proxy.url}/v1/chat/completions`, body("gpt-4.1"));
      expect(stack.sim.recorder.all().at(-1)!.bodyText).toBe(body("gpt-4.1").replace('"max_tokens"', '"max_completion_tokens"'));
      await post(`${stack.proxy.url}/v1/chat/completions`, body("gpt-4o"));
      expect(stack.sim.recorder.all().at(-1)!.bodyText).toBe(body("gpt-4o"));
      // Azure shape too: the deployment in the path is what is matched
      await fetch(`${stack.proxy.url}/openai/deployments/gpt-4.1/chat/completions?api-version=2024-10-21`, {
        method: "POST",
        headers: { "api-key": CLIENT_KEY, "content-type": "application/json" },
        body: `{"messages":[{"role":"user","content":"hi"}],"max_tokens":7}`,
      });
      expect(JSON.parse(stack.sim.recorder.all().at(-1)!.bodyText)).toEqual({
        model: "gpt-4.1",
        messages: [{ role: "user", content: "hi" }],
        max_completion_tokens: 7,
      }); // v1 upstream: the deployment goes in `model`
    } finally {
      await stack.stop();
    }
  });
});

describe("each operation: bad input is a 400 that never reaches Azure; Azure's error keeps its status", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ AZURE_OPENAI_API_VERSION: "2025-04-01-preview" });
  });
  afterAll(() => stack.stop());

  const form = (fields: Record<string, string>, withFile: string | null) => {
    const data = new FormData();
    for (const [k, v] of Object.entries(fields)) data.set(k, v);
    if (withFile) data.set(withFile, new Blob([wav], { type: "application/octet-stream" }), "f.bin");
    return data;
  };
  const send = (path: string, body: unknown) =>
    body instanceof FormData
      ? fetch(`${stack.proxy.url}${path}`, { method: "POST", headers: { authorization: `Bearer ${CLIENT_KEY}` }, body })
      : post(`${stack.proxy.url}${path}`, body);

  // [operation path, a bad body and the field it names, a body that asks Azure for an error]
  const cases: Array<[string, unknown, string, unknown]> = [
    // a 429 or 503 cools its deployment, so each failing case uses a deployment no later case needs
    ["/v1/chat/completions", { model: "gpt-4o", messages: "hi" }, "messages", chatBody("[sim status=429]", { model: "gpt-4.1" })],
    ["/v1/completions", { model: "gpt-35-turbo-instruct", prompt: 42 }, "prompt", { model: "gpt-35-turbo-instruct", prompt: "[sim status=429]" }],
    ["/v1/embeddings", { model: "text-embedding-3-small", input: [""] }, "input", { model: "text-embedding-3-small", input: "[sim status=503]" }],
    ["/v1/images/generations", { model: "dall-e-3", prompt: "" }, "prompt", { model: "dall-e-3", prompt: "[sim status=429]" }],
    ["/v1/images/edits", form({ model: "gpt-image-1", prompt: "x" }, null), "image", form({ model: "gpt-image-1", prompt: "[sim status=500]" }, "image")],
    [
      "/v1/audio/transcriptions",
      form({ model: "whisper", response_format: "mp4" }, "file"),
      "response_format",
      form({ model: "gpt-4o-transcribe", prompt: "[sim status=429]" }, "file"),
    ],
    ["/v1/audio/translations", form({ model: "whisper" }, null), "file", form({ model: "whisper", prompt: "[sim status=503]" }, "file")],
    ["/v1/audio/speech", { model: "tts", voice: "alloy", input: "hi", speed: 9 }, "speed", { model: "tts", voice: "alloy", input: "[sim status=429]" }],
    ["/v1/responses", { input: "hi" }, "model", { model: "gpt-4o", input: "[sim status=500]" }],
  ];
  for (const [path, bad, param, failing] of cases) {
    test(path, async () => {
      const before = stack.sim.recorder.all().length;
      const rejected = await send(path, bad);
      expect(rejected.status).toBe(400);
      expect((await rejected.json()).error.param).toBe(param);
      expect(stack.sim.recorder.all().length).toBe(before);

      const failed = await send(path, failing);
      const expectedStatus = Number(/status=(\d+)/.exec(JSON.stringify(failing) + (failing instanceof FormData ? String(failing.get("prompt")) : ""))![1]);
      expect(failed.status).toBe(expectedStatus);
      const { error } = await failed.json();
      expect(typeof error.message).toBe("string");
      if (expectedStatus === 429) expect(failed.headers.get("retry-after")).toBe("1");
    });
  }

  test("/v1/files: Azure's 404 for an unknown file comes through as a 404", async () => {
    const response = await fetch(`${stack.proxy.url}/v1/files/file-nope`, { headers: { authorization: `Bearer ${CLIENT_KEY}` } });
    expect(response.status).toBe(404);
    expect(typeof (await response.json()).error.message).toBe("string");
  });
});
