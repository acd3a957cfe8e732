/**
 * Slow, huge and many-part request bodies are bounded (issue 10, items 3 and 4): a body that
 * stops arriving is cut with 408 and its spool freed; all bodies together stay under
 * limits.max_spool_bytes (503 + retry-after, nothing forwarded); a refusal (413, 400, 503) is
 * readable by a client that is still writing; a form has at most limits.max_form_parts parts.
 * Raw sockets, so the test controls every byte and every pause.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI, { toFile } from "openai";
import { configFile } from "../harness/config-file.ts";
import { CLIENT_KEY } from "../harness/fixture.ts";
import { holdRequest, type HeldRequest, type RawAnswer } from "../harness/held-request.ts";
import { openFilesUnder } from "../harness/open-files.ts";
import { startProxy, type RunningProxy } from "../harness/proxy.ts";
import { startSimulator, type RunningSimulator } from "../harness/simulator.ts";

interface BodyStack {
  readonly sim: RunningSimulator;
  readonly proxy: RunningProxy;
  /** The proxy's TMPDIR: where its spool files live (unlinked, but open). */
  readonly spoolDir: string;
  stop(): Promise<void>;
}

async function startBodyStack(file: object): Promise<BodyStack> {
  const sim = await startSimulator();
  const spoolDir = mkdtempSync(join(tmpdir(), "azure-proxy-spool-"));
  const proxy = await startProxy({
    args: ["serve", "--config", configFile(file).path],
    env: {
      AZURE_OPENAI_ENDPOINT: sim.url,
      AZURE_OPENAI_API_KEY: sim.key,
      AUTH_KEY: CLIENT_KEY,
      AZURE_OPENAI_MODEL_MAP: "whisper-1=whisper,gpt-4o=gpt-4o",
      TMPDIR: spoolDir,
    },
  });
  return {
    sim,
    proxy,
    spoolDir,
    async stop() {
      await proxy.stop();
      await sim.stop();
    },
  };
}

const BOUNDARY = "----bodies-test-boundary";

/** A form's opening: its text fields, then the head of one file part whose content follows. */
function formHead(fields: Record<string, string>, fileName = "a.wav"): string {
  let text = "";
  for (const [name, value] of Object.entries(fields)) text += `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  return `${text}--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: application/octet-stream\r\n\r\n`;
}

function requestHead(path: string, headers: Record<string, string>): string {
  const lines = [`POST ${path} HTTP/1.1`, `authorization: Bearer ${CLIENT_KEY}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return lines.join("\r\n");
}

const multipart = { "content-type": `multipart/form-data; boundary=${BOUNDARY}` };

async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

function expectError(answer: RawAnswer, status: number, code: string) {
  expect(answer.status).toBe(status);
  expect(answer.headers["content-type"]).toStartWith("application/json");
  const { error } = JSON.parse(answer.body);
  expect(typeof error.message).toBe("string");
  expect(error.code).toBe(code);
  expect("param" in error && "type" in error).toBe(true);
  return error;
}

describe("a body that stops arriving (timeouts.client_body_ms)", () => {
  const SILENCE_MS = 600;
  let stack: BodyStack;
  beforeAll(async () => {
    stack = await startBodyStack({ timeouts: { client_body_ms: SILENCE_MS } });
  });
  afterAll(() => stack.stop());

  const spooled: Array<[string, string]> = [
    ["a multipart transcription", "/v1/audio/transcriptions"],
    ["a relayed file upload", "/v1/files"],
  ];
  for (const [name, path] of spooled) {
    test(`${name}: 408 JSON after the silence, its spool file closed, nothing forwarded`, async () => {
      const before = stack.sim.recorder.all().length;
      const head = formHead(path === "/v1/files" ? { purpose: "assistants" } : { model: "whisper-1" });
      const request = holdRequest(stack.proxy.port, requestHead(path, { ...multipart, "content-length": String(3_000_000) }));
      await request.write(head);
      // past the spool's 1 MiB in memory: the body is now in a (deleted) file
      await request.write(new Uint8Array(2_000_000).fill(7));
      const sentAt = performance.now();
      await until(() => openFilesUnder(stack.spoolDir).length > 0, "the spool file");
      const answer = await request.answer;
      const waited = performance.now() - sentAt;
      expectError(answer, 408, "request_timeout");
      expect(waited).toBeGreaterThanOrEqual(SILENCE_MS - 50);
      expect(waited).toBeLessThan(SILENCE_MS * 2 + 1500);
      await until(() => openFilesUnder(stack.spoolDir).length === 0, "the spool file to be closed", 3000);
      expect(stack.sim.recorder.all().length).toBe(before);
      request.destroy();
    });
  }

  for (const [name, length, sent] of [
    ["a large JSON body (read chunk by chunk)", 200_000, 150_000],
    ["a small JSON body (read in one piece)", 2_000, 60],
  ] as const) {
    test(`${name}: 408 JSON after the silence`, async () => {
      const before = stack.sim.recorder.all().length;
      const request = holdRequest(
        stack.proxy.port,
        requestHead("/v1/chat/completions", { "content-type": "application/json", "content-length": String(length) }),
      );
      await request.write(`{"model":"gpt-4o","messages":[{"role":"user","content":"${"x".repeat(sent - 50)}`);
      const answer = await request.answer;
      expectError(answer, 408, "request_timeout");
      expect(answer.ms).toBeGreaterThanOrEqual(SILENCE_MS - 50);
      expect(stack.sim.recorder.all().length).toBe(before);
      request.destroy();
    });
  }

  test("a slow body that never pauses as long as the limit is read to the end", async () => {
    const body = JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "x".repeat(200_000) }] });
    const request = holdRequest(
      stack.proxy.port,
      requestHead("/v1/chat/completions", { "content-type": "application/json", "content-length": String(body.length) }),
    );
    // 5 pieces, each after a pause shorter than the limit: longer in all than the limit
    const piece = Math.ceil(body.length / 5);
    for (let at = 0; at < body.length; at += piece) {
      await request.write(body.slice(at, at + piece));
      await Bun.sleep(SILENCE_MS / 3);
    }
    const answer = await request.answer;
    expect(answer.status).toBe(200);
    expect(answer.ms).toBeGreaterThan(SILENCE_MS);
    request.destroy();
  });
});

describe("all bodies together stay under limits.max_spool_bytes", () => {
  const BOUND = 2_000_000;
  let stack: BodyStack;
  beforeAll(async () => {
    // one process: with several, each worker holds its own share of the bound (src/cluster/spool-share.ts)
    stack = await startBodyStack({ server: { workers: 1 }, limits: { max_spool_bytes: BOUND }, timeouts: { client_body_ms: 20_000 } });
  });
  afterAll(() => stack.stop());

  const upload = (size: number, stream = false) => {
    const form = new FormData();
    form.set("purpose", "assistants");
    form.set("file", new File([new Uint8Array(size).fill(1)], "data.jsonl"));
    const request = new Request(`${stack.proxy.url}/v1/files`, { method: "POST", headers: { authorization: `Bearer ${CLIENT_KEY}` }, body: form });
    if (!stream) return fetch(request);
    // the same form without a Content-Length: its claim grows as it arrives
    return request.blob().then((blob) =>
      fetch(`${stack.proxy.url}/v1/files`, {
        method: "POST",
        headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": request.headers.get("content-type")! },
        body: blob.stream(),
      }),
    );
  };

  test("past the bound: 503 with retry-after, nothing forwarded; once the held body goes, uploads pass again", async () => {
    const held = holdRequest(stack.proxy.port, requestHead("/v1/audio/transcriptions", { ...multipart, "content-length": String(1_500_000) }));
    try {
      await expectRefusalsWhileHeld(held);
    } finally {
      held.destroy();
    }
    await until(() => openFilesUnder(stack.spoolDir).length === 0, "the held body's spool file to be closed");
    const before = stack.sim.recorder.all().length;
    // each finished upload gives its bytes back: together these are far more than the bound
    for (let i = 0; i < 4; i++) expect((await upload(900_000)).status).toBe(200);
    expect(stack.sim.recorder.all().length).toBe(before + 4);
  });

  async function expectRefusalsWhileHeld(held: HeldRequest) {
    await held.write(formHead({ model: "whisper-1" }));
    await held.write(new Uint8Array(1_100_000).fill(3));
    await until(() => openFilesUnder(stack.spoolDir).length > 0, "the held body's spool file");
    const before = stack.sim.recorder.all().length;

    for (const stream of [false, true]) {
      const refused = await upload(600_000, stream);
      expect(refused.status).toBe(503);
      expect(refused.headers.get("retry-after")).toBe("5");
      expect(refused.headers.get("content-type")).toStartWith("application/json");
      const { error } = await refused.json();
      expect(error.code).toBe("spool_full");
      expect(error.message).toContain("limits.max_spool_bytes");
    }
    const json = await fetch(`${stack.proxy.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "x".repeat(600_000) }] }),
    });
    expect(json.status).toBe(503);
    expect(stack.sim.recorder.all().length).toBe(before);
  }
});

describe("a refusal is readable by a client that is still writing", () => {
  const MAX_BODY = 65_536;
  const TOTAL = 24_000_000;
  let stack: BodyStack;
  beforeAll(async () => {
    stack = await startBodyStack({ limits: { max_body_bytes: MAX_BODY, max_form_parts: 5 } });
  });
  afterAll(() => stack.stop());

  const cases: Array<[string, string, Record<string, string>, boolean, string, number, string]> = [
    [
      "JSON, Content-Length over the limit",
      "/v1/chat/completions",
      { "content-type": "application/json", "content-length": String(TOTAL) },
      false,
      "{",
      413,
      "request_too_large",
    ],
    [
      "JSON, chunked past the limit",
      "/v1/chat/completions",
      { "content-type": "application/json", "transfer-encoding": "chunked" },
      true,
      "{",
      413,
      "request_too_large",
    ],
    [
      "file upload, chunked past the limit",
      "/v1/files",
      { ...multipart, "transfer-encoding": "chunked" },
      true,
      formHead({ purpose: "assistants" }),
      413,
      "request_too_large",
    ],
    [
      "a form with too many parts, still sending its file",
      "/v1/audio/transcriptions",
      { ...multipart, "transfer-encoding": "chunked" },
      true,
      formHead({ model: "whisper-1", a: "1", b: "2", c: "3", d: "4", e: "5" }),
      400,
      "too_many_parts",
    ],
  ];
  for (const [name, path, headers, chunked, opening, status, code] of cases) {
    test(`${name}: ${status}, read while ${TOTAL / 1e6} MB are written, no write error`, async () => {
      const before = stack.sim.recorder.all().length;
      const request = holdRequest(stack.proxy.port, requestHead(path, headers), { chunked });
      await request.write(opening);
      const writing = request.keepWriting(TOTAL);
      const answer = await request.answer;
      await writing;
      expectError(answer, status, code);
      expect(request.writeError()).toBeNull();
      expect(request.written()).toBeGreaterThanOrEqual(TOTAL);
      expect(stack.sim.recorder.all().length).toBe(before);
      console.log(
        `${name}: ${status} after ${answer.ms.toFixed(0)} ms, ${answer.writtenAtAnswer} bytes written by then, ${request.written()} in all, write error: ${request.writeError()}`,
      );
      request.destroy();
    });
  }

  test("fetch and the openai SDK get the 413 as an answer, not a broken connection", async () => {
    const big = new Uint8Array(TOTAL).fill(120);
    for (const body of [big, new Blob([big]).stream()]) {
      const response = await fetch(`${stack.proxy.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" },
        body,
      });
      expect(response.status).toBe(413);
      expect((await response.json()).error.code).toBe("request_too_large");
    }
    const client = new OpenAI({ apiKey: CLIENT_KEY, baseURL: `${stack.proxy.url}/v1`, maxRetries: 0 });
    const failure = await client.files.create({ file: await toFile(big, "big.jsonl"), purpose: "batch" }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect((failure as InstanceType<typeof OpenAI.APIError>).status).toBe(413);
  });
});

describe("limits.max_form_parts", () => {
  let stack: BodyStack;
  beforeAll(async () => {
    stack = await startBodyStack({ limits: { max_form_parts: 5 } });
  });
  afterAll(() => stack.stop());

  const transcribe = (extra: Record<string, string>) => {
    const form = new FormData();
    form.set("model", "whisper-1");
    form.set("file", new File([new Uint8Array(2048).fill(9)], "a.wav", { type: "audio/wav" }));
    for (const [name, value] of Object.entries(extra)) form.append(name, value);
    return fetch(`${stack.proxy.url}/v1/audio/transcriptions`, { method: "POST", headers: { authorization: `Bearer ${CLIENT_KEY}` }, body: form });
  };

  test("a form of exactly max_form_parts parts is forwarded; one more part is a 400 that never reaches Azure", async () => {
    const before = stack.sim.recorder.all().length;
    const ok = await transcribe({ response_format: "json", temperature: "0", prompt: "p" });
    expect(ok.status).toBe(200);
    expect(stack.sim.recorder.all().length).toBe(before + 1);
    const refused = await transcribe({ response_format: "json", temperature: "0", prompt: "p", language: "en" });
    expect(refused.status).toBe(400);
    const { error } = await refused.json();
    expect(error.code).toBe("too_many_parts");
    expect(error.type).toBe("invalid_request_error");
    expect(error.message).toContain("more than 5 parts");
    expect(stack.sim.recorder.all().length).toBe(before + 1);
  });
});
