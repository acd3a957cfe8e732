/**
 * Speech to text, docs/azure.md §7 "Audio": multipart `file` (required), `prompt`,
 * `response_format` json|text|srt|verbose_json|vtt, `temperature` 0–1, `language`
 * (transcriptions only), `model` (preview/v1). `json` → `{"text"}`; `verbose_json` adds task,
 * language, duration and Whisper's segments; text/srt/vtt come back as text/plain.
 * The uploaded file itself is hashed by the recorder (request-body.ts), not kept here.
 */
import { baseModelName } from "../deployments.ts";
import { tokens } from "./chat.ts";
import { field, invalidRequest, json, type OperationContext } from "./context.ts";

export const DEFAULT_TRANSCRIPT = "Hello from the Azure simulator. This is what the uploaded audio says.";
const FORMATS = ["json", "text", "srt", "verbose_json", "vtt"];
// §7: Whisper names the language in full in verbose_json
const LANGUAGES: Record<string, string> = { en: "english", de: "german", fr: "french", es: "spanish", ja: "japanese", zh: "chinese", ru: "russian" };
/** Assumed bitrate for the duration estimate: 128 kbit/s, a typical mp3. */
const BYTES_PER_SECOND = 16000;

export function handleTranscription(ctx: OperationContext): Response {
  return speechToText(ctx, "transcribe");
}

export function handleTranslation(ctx: OperationContext): Response {
  return speechToText(ctx, "translate");
}

function speechToText({ form, model, faults, headers }: OperationContext, task: "transcribe" | "translate"): Response {
  const file = form?.get("file");
  if (!file || typeof file === "string") {
    // Observed: Azure answers a missing (or nameless) file part with an empty 400 and this
    // header [wkok/openai-clojure#71]
    headers.set("ms-azureml-model-error-reason", "Missing audio file");
    headers.delete("content-type");
    return new Response(null, { status: 400, headers });
  }
  const format = field(form, "response_format") || "json";
  if (!FORMATS.includes(format)) {
    return json(
      invalidRequest(`Invalid value: '${format}'. Supported values are: 'json', 'text', 'srt', 'verbose_json', and 'vtt'.`, "response_format", "invalid_value"),
      400,
      headers,
    );
  }
  if (!baseModelName(model).startsWith("whisper") && format !== "json" && format !== "text") {
    // gpt-4o-transcribe only writes json or text (§7 preview models; OpenAI's wording, inferred)
    return json(
      invalidRequest(
        `response_format '${format}' is not compatible with model '${baseModelName(model)}'. Use 'json' or 'text' instead.`,
        "response_format",
        "unsupported_value",
      ),
      400,
      headers,
    );
  }
  const temperature = field(form, "temperature");
  if (temperature !== "" && !(Number(temperature) >= 0 && Number(temperature) <= 1)) {
    return json(invalidRequest(`Invalid 'temperature': decimal must be between 0 and 1.`, "temperature", "invalid_value"), 400, headers);
  }

  const text = faults.reply ?? DEFAULT_TRANSCRIPT;
  const duration = Math.max(1, Math.round((file.size / BYTES_PER_SECOND) * 100) / 100);
  const segments = segmentsOf(text, duration);
  if (format === "json") return json({ text }, 200, headers);
  if (format === "verbose_json") {
    const language = task === "translate" ? "english" : (LANGUAGES[field(form, "language")] ?? "english");
    return json({ task, language, duration, text, segments }, 200, headers);
  }
  headers.set("content-type", "text/plain; charset=utf-8");
  if (format === "text") return new Response(`${text}\n`, { status: 200, headers });
  const stamp = (seconds: number, sep: string) => {
    const ms = Math.round(seconds * 1000);
    const pad = (n: number, w = 2) => String(n).padStart(w, "0");
    return `${pad(Math.floor(ms / 3600000))}:${pad(Math.floor(ms / 60000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}${sep}${pad(ms % 1000, 3)}`;
  };
  if (format === "srt") {
    return new Response(segments.map((s, i) => `${i + 1}\n${stamp(s.start, ",")} --> ${stamp(s.end, ",")}\n${s.text.trim()}\n\n`).join(""), {
      status: 200,
      headers,
    });
  }
  return new Response(`WEBVTT\n\n${segments.map((s) => `${stamp(s.start, ".")} --> ${stamp(s.end, ".")}\n${s.text.trim()}\n\n`).join("")}`, {
    status: 200,
    headers,
  });
}

/** Whisper's segment shape (§7 audioVerboseResponse), one per sentence, spread over the duration. */
function segmentsOf(text: string, duration: number) {
  const sentences = text.match(/[^.!?。！？]+[.!?。！？]*\s*/gu) ?? [text];
  const total = sentences.reduce((sum, s) => sum + s.length, 0) || 1;
  let at = 0;
  return sentences.map((sentence, id) => {
    const start = at;
    at = Math.round((at + (duration * sentence.length) / total) * 100) / 100;
    return {
      id,
      seek: 0,
      start,
      end: id === sentences.length - 1 ? duration : at,
      text: ` ${sentence.trim()}`,
      tokens: tokens(sentence).map((_, i) => 50364 + id * 100 + i),
      temperature: 0,
      avg_logprob: -0.25,
      compression_ratio: 1.2,
      no_speech_prob: 0.01,
    };
  });
}
