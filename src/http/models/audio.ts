/** Audio: transcriptions/translations are multipart uploads; speech is JSON with a binary answer. */
import { t } from "elysia";
import { FileField, ModelName, nullable, open } from "./common.ts";

const formFields = {
  file: FileField,
  response_format: t.Optional(
    t.Union(
      ["json", "text", "srt", "verbose_json", "vtt"].map((f) => t.Literal(f)),
      { hint: 'one of "json", "text", "srt", "verbose_json", "vtt"' },
    ),
  ),
  temperature: t.Optional(t.String({ pattern: "^\\s*-?\\d+(\\.\\d+)?\\s*$", hint: "a number" })),
  stream: t.Optional(t.Union([t.Literal("true"), t.Literal("false")], { hint: '"true" or "false"' })),
};

export const TranscriptionForm = t.Object({ model: ModelName, ...formFields }, open);
export const DeploymentTranscriptionForm = t.Object({ model: t.Optional(t.String()), ...formFields }, open);

const speechFields = {
  input: t.String({ minLength: 1, maxLength: 4096, hint: "text of 1 to 4096 characters" }),
  voice: t.Union([t.String({ minLength: 1 }), t.Object({ id: t.String() }, open)], { hint: "a voice name" }),
  response_format: nullable(t.Union(["mp3", "opus", "aac", "flac", "wav", "pcm"].map((f) => t.Literal(f)))),
  speed: nullable(t.Number({ minimum: 0.25, maximum: 4 })),
};

export const SpeechRequest = t.Object({ model: ModelName, ...speechFields }, open);
export const DeploymentSpeechRequest = t.Object({ model: t.Optional(t.String()), ...speechFields }, open);
