/** Transcriptions and translations, docs/azure.md §7 "Audio": formats, validation, hashes. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { DEFAULT_TRANSCRIPT } from "../../src/simulator/operations/audio-transcriptions.ts";
import { binary, expectRateLimited, sha256, startSim, type Sim } from "./helpers.ts";

let sim: Sim;
beforeAll(async () => {
  sim = await startSim();
});
afterAll(() => sim.stop());

const audio = binary(64_000);
function form(fields: Record<string, string> = {}, file: Uint8Array<ArrayBuffer> | null = audio): FormData {
  const f = new FormData();
  if (file) f.set("file", new File([file], "speech.mp3", { type: "audio/mpeg" }));
  for (const [k, v] of Object.entries(fields)) f.set(k, v);
  return f;
}
const transcribe = (fields?: Record<string, string>, file?: Uint8Array<ArrayBuffer> | null, op = "/audio/transcriptions") =>
  sim.postForm(sim.scoped("whisper", op), form(fields, file));

test("json (default) → {text}; the uploaded file is recorded byte for byte (size, SHA-256)", async () => {
  const response = await transcribe({ prompt: "a meeting", temperature: "0.2" });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe("application/json");
  expect(await response.json()).toEqual({ text: DEFAULT_TRANSCRIPT });
  const seen = sim.last();
  expect(seen.files).toEqual([{ name: "file", filename: "speech.mp3", size: audio.length, sha256: sha256(audio), contentType: "audio/mpeg" }]);
  expect(seen.fields).toEqual({ prompt: "a meeting", temperature: "0.2" });
  expect(seen.bodySize).toBeGreaterThan(audio.length);
  expect(seen.bodySha256).toMatch(/^[0-9a-f]{64}$/);
});

test("verbose_json: task, language, duration, Whisper segments", async () => {
  const body = (await (await transcribe({ response_format: "verbose_json", language: "de" })).json()) as Record<string, unknown> & {
    segments: Array<Record<string, unknown>>;
  };
  expect(body).toMatchObject({ task: "transcribe", language: "german", text: DEFAULT_TRANSCRIPT });
  expect(body.duration).toBe(4); // 64 000 bytes at the assumed 16 000 bytes/s
  expect(body.segments.length).toBe(2);
  expect(Object.keys(body.segments[0]!)).toEqual([
    "id",
    "seek",
    "start",
    "end",
    "text",
    "tokens",
    "temperature",
    "avg_logprob",
    "compression_ratio",
    "no_speech_prob",
  ]);
  expect(body.segments.at(-1)!.end).toBe(4);
  const translated = (await (await transcribe({ response_format: "verbose_json" }, audio, "/audio/translations")).json()) as Record<string, unknown>;
  expect(translated).toMatchObject({ task: "translate", language: "english" });
});

test("text, srt and vtt come back as text/plain in their formats", async () => {
  const text = await transcribe({ response_format: "text" });
  expect(text.headers.get("content-type")).toBe("text/plain; charset=utf-8");
  expect(await text.text()).toBe(`${DEFAULT_TRANSCRIPT}\n`);
  const srt = await (await transcribe({ response_format: "srt" })).text();
  expect(srt).toMatch(/^1\n00:00:00,000 --> 00:00:\d\d,\d{3}\nHello from the Azure simulator\.\n\n2\n/);
  const vtt = await (await transcribe({ response_format: "vtt" })).text();
  expect(vtt).toMatch(/^WEBVTT\n\n00:00:00\.000 --> 00:00:\d\d\.\d{3}\nHello from the Azure simulator\.\n\n/);
});

test("a missing file is Azure's empty 400 with ms-azureml-model-error-reason; a bad format is 400", async () => {
  const missing = await transcribe({ prompt: "x" }, null);
  expect(missing.status).toBe(400);
  expect(missing.headers.get("ms-azureml-model-error-reason")).toBe("Missing audio file");
  expect(await missing.text()).toBe("");
  expect((await transcribe({ response_format: "mp3" })).status).toBe(400);
  expect((await transcribe({ temperature: "2" })).status).toBe(400);
  const json = await sim.postJson(sim.scoped("whisper", "/audio/transcriptions"), { file: "x" });
  expect(json.status).toBe(400);
});

test("v1 takes model from the form; gpt-4o-transcribe: transcriptions only, json/text only", async () => {
  const v1 = await sim.postForm(sim.v1("/audio/transcriptions"), form({ model: "gpt-4o-transcribe" }));
  expect(await v1.json()).toEqual({ text: DEFAULT_TRANSCRIPT });
  expect((await sim.postForm(sim.v1("/audio/transcriptions"), form({ model: "gpt-4o-transcribe", response_format: "srt" }))).status).toBe(400);
  const translate = await sim.postForm(sim.v1("/audio/translations"), form({ model: "gpt-4o-transcribe" }));
  expect(((await translate.json()) as { error: { code: string } }).error.code).toBe("OperationNotSupported");
});

test("faults in a multipart text field: 429 names Transcriptions_Create / Translations_Create; reply=", async () => {
  await expectRateLimited(await transcribe({ prompt: "[sim status=429 retry_after=2]" }), "Transcriptions_Create", 2, expect);
  await expectRateLimited(await transcribe({ prompt: "[sim status=429 retry_after=5]" }, audio, "/audio/translations"), "Translations_Create", 5, expect);
  expect(await (await transcribe({ prompt: "[sim reply=custom_words]", response_format: "text" })).text()).toBe("custom words\n");
});
