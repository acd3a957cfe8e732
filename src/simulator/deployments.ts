/**
 * Deployments and what their models can do. A deployment name maps to the underlying model
 * Azure reports in `model` (docs/azure.md §4.1: "gpt-4o-2024-11-20", not the deployment).
 * Each model family supports only its operations; anything else gets Azure's 400
 * OperationNotSupported (§4.3), and models newer than an api-version get the version-gating
 * 400 (§1.5, "Model X is enabled only for api versions Y and later").
 */
export const DEFAULT_DEPLOYMENTS: Readonly<Record<string, string>> = Object.freeze({
  "gpt-4o": "gpt-4o-2024-11-20",
  "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
  "gpt-4.1": "gpt-4.1-2025-04-14",
  "gpt-35-turbo": "gpt-35-turbo",
  "gpt-35-turbo-instruct": "gpt-35-turbo-instruct",
  "text-embedding-3-small": "text-embedding-3-small",
  "text-embedding-ada-002": "text-embedding-ada-002",
  "dall-e-3": "dall-e-3",
  "gpt-image-1": "gpt-image-1",
  whisper: "whisper",
  "gpt-4o-transcribe": "gpt-4o-transcribe",
  tts: "tts",
  // Realtime sessions (realtime.ts); the HTTP operations do not list them
  "gpt-realtime": "gpt-realtime-2025-08-28",
  "gpt-4o-realtime-preview": "gpt-4o-realtime-preview-2024-12-17",
});

/**
 * The operation names Azure uses in OperationNotSupported messages. `completion`,
 * `chatCompletion`, `embeddings` and `imageGenerations` are observed (§4.3); the others follow
 * the same pattern (inferred).
 */
export type Capability =
  | "chatCompletion"
  | "completion"
  | "embeddings"
  | "imageGenerations"
  | "imageEdits"
  | "audioTranscription"
  | "audioTranslation"
  | "speech"
  | "responses";

interface ModelFamily {
  match: RegExp;
  capabilities: readonly Capability[];
  /** First dated api-version that knows the model (§1.5, §7: gpt-image-1 from 2025-04-01-preview). */
  datedSince?: string;
}

const FAMILIES: readonly ModelFamily[] = [
  { match: /instruct/, capabilities: ["completion"] },
  { match: /^text-embedding/, capabilities: ["embeddings"] },
  { match: /^dall-e/, capabilities: ["imageGenerations"] },
  { match: /^gpt-image/, capabilities: ["imageGenerations", "imageEdits"], datedSince: "2025-04-01-preview" },
  { match: /^whisper/, capabilities: ["audioTranscription", "audioTranslation"] },
  // §7: gpt-4o-transcribe is a preview/v1 model, transcriptions only
  { match: /transcribe/, capabilities: ["audioTranscription"], datedSince: "2025-03-01-preview" },
  { match: /^tts/, capabilities: ["speech"] },
  { match: /./, capabilities: ["chatCompletion", "responses"] },
];

/** "gpt-4o-2024-11-20" → "gpt-4o": the name Azure's error messages use. */
export function baseModelName(model: string): string {
  return model.replace(/-\d{4}-\d{2}-\d{2}$/, "");
}

export function familyOf(model: string): ModelFamily {
  const base = baseModelName(model);
  return FAMILIES.find((f) => f.match.test(base))!;
}

export function capabilitiesOf(model: string): readonly Capability[] {
  return familyOf(model).capabilities;
}

/** The 400 body when `model` cannot serve `capability` on this api-version, else undefined. */
export function modelRefusal(model: string, capability: Capability, datedVersion: string | null): unknown {
  const family = familyOf(model);
  const base = baseModelName(model);
  if (!family.capabilities.includes(capability)) {
    return {
      error: {
        code: "OperationNotSupported",
        message: `The ${capability} operation does not work with the specified model, ${base}. Please choose different model and try again. You can learn more about which models can be used with each operation here: https://go.microsoft.com/fwlink/?linkid=2197993.`,
      },
    };
  }
  if (datedVersion !== null && family.datedSince && datedVersion.slice(0, 10) < family.datedSince.slice(0, 10)) {
    return { error: { code: "BadRequest", message: `Model ${base} is enabled only for api versions ${family.datedSince} and later` } };
  }
  return undefined;
}
