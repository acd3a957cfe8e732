/** Text to speech, docs/azure.md §7 "TTS": binary audio in several writes, faults. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { SPEECH_CONTENT_TYPE } from "../../src/simulator/operations/audio-speech.ts";
import { expectRateLimited, PREVIEW, startSim, type Sim } from "./helpers.ts";

let sim: Sim;
beforeAll(async () => {
  sim = await startSim();
});
afterAll(() => sim.stop());

async function reads(response: Response): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of response.body!) chunks.push(chunk);
  return chunks;
}
const join = (chunks: Uint8Array[]) => {
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return all;
};
const ascii = (bytes: Uint8Array, from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));

test("mp3 by default: application/octet-stream, an ID3 header, streamed in several writes", async () => {
  const response = await sim.postJson(sim.scoped("tts", "/audio/speech", PREVIEW), { input: "Hello there, this is a test.", voice: "alloy" });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe(SPEECH_CONTENT_TYPE);
  expect(SPEECH_CONTENT_TYPE).toBe("application/octet-stream");
  const chunks = await reads(response);
  expect(chunks.length).toBeGreaterThan(2);
  const audio = join(chunks);
  expect(ascii(audio, 0, 3)).toBe("ID3");
  expect([audio[10], audio[11]]).toEqual([0xff, 0xfb]);
  expect(sim.last().completed).toBe(true);
});

test("each response_format starts with its own magic; longer input, more audio", async () => {
  const magic: Record<string, (b: Uint8Array) => boolean> = {
    wav: (b) => ascii(b, 0, 4) === "RIFF" && ascii(b, 8, 12) === "WAVE",
    opus: (b) => ascii(b, 0, 4) === "OggS",
    flac: (b) => ascii(b, 0, 4) === "fLaC",
    aac: (b) => b[0] === 0xff && (b[1]! & 0xf0) === 0xf0,
    pcm: (b) => b.length > 0,
  };
  for (const [format, check] of Object.entries(magic)) {
    const response = await sim.postJson(sim.v1("/audio/speech"), { model: "tts", input: "hi", voice: "nova", response_format: format });
    expect(check(new Uint8Array(await response.arrayBuffer()))).toBe(true);
  }
  const size = async (input: string) => (await (await sim.postJson(sim.v1("/audio/speech"), { model: "tts", input, voice: "echo" })).arrayBuffer()).byteLength;
  expect(await size("x".repeat(400))).toBeGreaterThan(await size("x"));
});

test("bad voice, format, speed or input are 400; speech needs a tts deployment", async () => {
  const url = sim.v1("/audio/speech");
  for (const body of [
    { input: "x", voice: "robot" },
    { input: "x", voice: "alloy", response_format: "ogg" },
    { input: "x", voice: "alloy", speed: 9 },
    { voice: "alloy" },
    { input: "x".repeat(4097), voice: "alloy" },
  ]) {
    expect((await sim.postJson(url, { model: "tts", ...body })).status).toBe(400);
  }
  expect((await sim.postJson(url, { model: "gpt-4o", input: "x", voice: "alloy" })).status).toBe(400);
});

test("[sim status=429] names Speech_Create; [sim reset_after=2] cuts the audio mid-stream", async () => {
  await expectRateLimited(
    await sim.postJson(sim.v1("/audio/speech"), { model: "tts", input: "[sim status=429 retry_after=2]", voice: "alloy" }),
    "Speech_Create",
    2,
    expect,
  );
  const response = await sim.postJson(sim.v1("/audio/speech"), { model: "tts", input: "[sim reset_after=2] long text ".repeat(20), voice: "alloy" });
  expect(response.status).toBe(200);
  const received: Uint8Array[] = [];
  const outcome = await (async () => {
    for await (const chunk of response.body!) received.push(chunk);
  })().then(
    () => "ended",
    () => "cut",
  );
  expect(outcome).toBe("cut");
  expect(join(received).length).toBeLessThanOrEqual(2 * 4096);
});
