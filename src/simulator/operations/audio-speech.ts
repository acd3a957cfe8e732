/**
 * Text to speech, docs/azure.md §7 "TTS": JSON `{input (≤4096 chars), voice, response_format
 * (mp3|opus|aac|flac|wav|pcm), speed 0.25–4.0}`; preview dated versions and v1 only (§1.2).
 * The answer is binary audio streamed in several writes, so a proxy's binary relay (and the
 * reset/stall faults) can be tested. The bytes are deterministic and start with the right magic
 * for the format; they are not playable speech.
 */
import { applyStreamFaults, type Step } from "../sse-writer.ts";
import { invalidRequest, json, type OperationContext } from "./context.ts";

/** §7: "The response is `application/octet-stream`". One constant, in case captures disagree. */
export const SPEECH_CONTENT_TYPE = "application/octet-stream";
const VOICES = ["alloy", "echo", "fable", "onyx", "nova", "shimmer"];
const FORMATS = ["mp3", "opus", "aac", "flac", "wav", "pcm"] as const;
type Format = (typeof FORMATS)[number];
const CHUNK = 4096;

export function handleSpeech({ body, faults, headers, streamed }: OperationContext): Response {
  const input = body.input;
  if (typeof input !== "string" || input === "") return json(invalidRequest("'input' is a required property", "input"), 400, headers);
  if (input.length > 4096)
    return json(invalidRequest(`'input' is too long: ${input.length} characters, the maximum is 4096.`, "input", "string_above_max_length"), 400, headers);
  if (typeof body.voice !== "string" || !VOICES.includes(body.voice)) {
    return json(
      invalidRequest(`Invalid value: '${String(body.voice)}'. Supported values are: ${VOICES.map((v) => `'${v}'`).join(", ")}.`, "voice", "invalid_value"),
      400,
      headers,
    );
  }
  const format = (body.response_format ?? "mp3") as Format;
  if (!FORMATS.includes(format))
    return json(
      invalidRequest(
        `Invalid value: '${String(format)}'. Supported values are: ${FORMATS.map((f) => `'${f}'`).join(", ")}.`,
        "response_format",
        "invalid_value",
      ),
      400,
      headers,
    );
  const speed = body.speed ?? 1;
  if (typeof speed !== "number" || speed < 0.25 || speed > 4)
    return json(invalidRequest("Invalid 'speed': number must be between 0.25 and 4.0.", "speed", "invalid_value"), 400, headers);

  const audio = fakeAudio(format, Math.round((8192 + input.length * 256) / speed));
  const chunks: Step[] = [];
  for (let at = 0; at < audio.length; at += CHUNK) chunks.push({ frame: audio.subarray(at, at + CHUNK) });
  headers.set("content-type", SPEECH_CONTENT_TYPE);
  // A binary stream cannot carry an error event: error_after cuts the connection like reset_after.
  return streamed(applyStreamFaults(chunks, faults, { error: [{ reset: true }], done: [] }));
}

/** Deterministic bytes of about `size` with a header a sniffer recognises. */
export function fakeAudio(format: Format, size: number): Uint8Array {
  const bytes = new Uint8Array(Math.max(size, 512));
  for (let i = 0; i < bytes.length; i++) bytes[i] = (Math.sin(i / 7) * 100 + 128) & 0xff;
  const ascii = (at: number, text: string) => {
    for (let i = 0; i < text.length; i++) bytes[at + i] = text.charCodeAt(i);
  };
  const view = new DataView(bytes.buffer);
  switch (format) {
    case "mp3":
      ascii(0, "ID3");
      bytes.set([4, 0, 0, 0, 0, 0, 0], 3); // ID3v2.4, no flags, empty tag
      // MPEG-1 Layer III, 128 kbit/s, 44.1 kHz frames (417 bytes each)
      for (let at = 10; at + 4 <= bytes.length; at += 417) bytes.set([0xff, 0xfb, 0x90, 0x64], at);
      break;
    case "wav":
      ascii(0, "RIFF");
      view.setUint32(4, bytes.length - 8, true);
      ascii(8, "WAVEfmt ");
      view.setUint32(16, 16, true);
      view.setUint16(20, 1, true); // PCM
      view.setUint16(22, 1, true); // mono
      view.setUint32(24, 24000, true);
      view.setUint32(28, 48000, true);
      view.setUint16(32, 2, true);
      view.setUint16(34, 16, true);
      ascii(36, "data");
      view.setUint32(40, bytes.length - 44, true);
      break;
    case "opus":
      ascii(0, "OggS");
      bytes.set([0, 2, 0, 0, 0, 0, 0, 0, 0, 0], 4);
      ascii(28, "OpusHead");
      break;
    case "aac":
      bytes.set([0xff, 0xf1, 0x50, 0x80], 0); // ADTS, MPEG-4 AAC LC, 24 kHz
      break;
    case "flac":
      ascii(0, "fLaC");
      bytes.set([0x80, 0, 0, 34], 4); // last metadata block: STREAMINFO, 34 bytes
      break;
    case "pcm":
      break; // raw 24 kHz 16-bit little-endian samples, no header
  }
  return bytes;
}
