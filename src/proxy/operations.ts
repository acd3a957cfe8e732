/**
 * Every operation the proxy relays, declared once. The route modules register one route per
 * row and shape; `prepare` builds the upstream URL from the same row and refuses, with a message
 * that says what to change, an operation the configured Azure API style does not have.
 * Where Azure offers what (docs/azure.md §1.2-1.4):
 *   dated: "ga" any dated version; "preview" only `YYYY-MM-DD-preview` versions
 *          (`responses` from 2025-03-01-preview); "none" not in the dated API
 *   v1:    "ga" plain /openai/v1; "preview" needs `?api-version=preview`; "none" absent
 */
import type { StreamEnd } from "../stream/relay.ts";

export type Availability = "ga" | "preview" | "none";
export type BodyKind = "json" | "multipart" | "none" | "passthrough";

export interface Operation {
  /** Stable id for logs, metrics and error messages (OpenAI's path without /v1). */
  readonly id: string;
  /** Path after `/v1`, `/openai/v1` or `/openai/deployments/{d}`. */
  readonly suffix: string;
  readonly method: "GET" | "POST" | "DELETE";
  /** The dated API puts the deployment in the path (`/openai/deployments/{d}{suffix}`). */
  readonly deploymentScoped: boolean;
  readonly body: BodyKind;
  readonly streamEnd: StreamEnd;
  readonly dated: Availability;
  /** Earliest dated version that has it, when later than the rest ("2025-03-01-preview"). */
  readonly datedSince?: string;
  readonly v1: Availability;
  /**
   * Not in the v1 API's documented surface, yet Azure serves it for some models: forwarded, and
   * only Azure's own 404 for it becomes the "operation not available" answer (outcome.ts).
   */
  readonly v1Unlisted?: boolean;
  /** The model field is the deployment: routed by model, with failover across deployments. */
  readonly routedByModel: boolean;
  /** Which event field the stream fix-ups read (stream/fixups.ts; OpenAI-shaped clients only); null: none apply. */
  readonly fixups: "delta" | "text" | null;
  /**
   * How a stream reports its tokens: "ask" the proxy sets `stream_options.include_usage` (where
   * the API version takes it); "always" Azure sends them anyway (Responses' final event); "none".
   */
  readonly streamUsage: "ask" | "always" | "none";
  /**
   * How the call is charged: "answer" Azure's usage (the prompt's estimate if the client left
   * first); "answer-or-prompt" also the estimate when a whole answer has none (a background
   * response answered "queued"); "none" not charged (no model: stored objects, v1 resources).
   */
  readonly meter: "answer" | "answer-or-prompt" | "none";
  /** A reasoning deployment (routes[].max_completion_tokens) takes `max_completion_tokens` for the body's `max_tokens`. */
  readonly renamesMaxTokens: boolean;
  /** A created answer is an object kept upstream (a stored response): it belongs to the key that made it. */
  readonly storesObject: boolean;
  /** Its body may name objects by id (a previous response, a file): ownership checks they are the caller's. */
  readonly refersToObjects: boolean;
}

type Defaulted = "streamEnd" | "routedByModel" | "fixups" | "streamUsage" | "meter" | "renamesMaxTokens" | "storesObject" | "refersToObjects";
const op = (o: Omit<Operation, Defaulted> & Partial<Operation>): Operation =>
  Object.freeze({
    streamEnd: "done-marker",
    routedByModel: true,
    fixups: null,
    streamUsage: "none",
    meter: o.routedByModel === false ? "none" : "answer",
    renamesMaxTokens: false,
    storesObject: false,
    refersToObjects: false,
    ...o,
  });

export const CHAT_COMPLETIONS = op({
  id: "chat.completions",
  suffix: "/chat/completions",
  method: "POST",
  deploymentScoped: true,
  body: "json",
  dated: "ga",
  v1: "ga",
  fixups: "delta",
  streamUsage: "ask",
  renamesMaxTokens: true,
  refersToObjects: true,
});
// Legacy completions: the v1 API's GA surface does not list them (§1.4), but Azure may serve them
// (instruct models), so they are tried there too.
export const COMPLETIONS = op({
  id: "completions",
  suffix: "/completions",
  method: "POST",
  deploymentScoped: true,
  body: "json",
  dated: "ga",
  v1: "ga",
  v1Unlisted: true,
  fixups: "text",
  streamUsage: "ask",
});
export const EMBEDDINGS = op({ id: "embeddings", suffix: "/embeddings", method: "POST", deploymentScoped: true, body: "json", dated: "ga", v1: "ga" });
export const IMAGE_GENERATIONS = op({
  id: "images.generations",
  suffix: "/images/generations",
  method: "POST",
  deploymentScoped: true,
  body: "json",
  dated: "ga",
  v1: "preview",
});
export const IMAGE_EDITS = op({
  id: "images.edits",
  suffix: "/images/edits",
  method: "POST",
  deploymentScoped: true,
  body: "multipart",
  dated: "preview",
  v1: "preview",
});
export const AUDIO_TRANSCRIPTIONS = op({
  id: "audio.transcriptions",
  suffix: "/audio/transcriptions",
  method: "POST",
  deploymentScoped: true,
  body: "multipart",
  dated: "ga",
  v1: "preview",
});
export const AUDIO_TRANSLATIONS = op({
  id: "audio.translations",
  suffix: "/audio/translations",
  method: "POST",
  deploymentScoped: true,
  body: "multipart",
  dated: "ga",
  v1: "preview",
});
export const AUDIO_SPEECH = op({
  id: "audio.speech",
  suffix: "/audio/speech",
  method: "POST",
  deploymentScoped: true,
  body: "json",
  dated: "preview",
  v1: "preview",
});
export const RESPONSES = op({
  id: "responses",
  suffix: "/responses",
  method: "POST",
  deploymentScoped: false,
  body: "json",
  dated: "preview",
  datedSince: "2025-03-01-preview",
  v1: "ga",
  streamEnd: "terminal-event",
  streamUsage: "always",
  meter: "answer-or-prompt",
  storesObject: true,
  refersToObjects: true,
});

/** Operations on a stored response: no model, so they go to the default upstream. */
const storedResponse = (id: string, suffix: string, method: Operation["method"]) =>
  op({ id, suffix, method, deploymentScoped: false, body: "none", dated: "preview", datedSince: "2025-03-01-preview", v1: "ga", routedByModel: false });
export const RESPONSE_GET = storedResponse("responses.get", "/responses/:id", "GET");
export const RESPONSE_DELETE = storedResponse("responses.delete", "/responses/:id", "DELETE");
export const RESPONSE_CANCEL = storedResponse("responses.cancel", "/responses/:id/cancel", "POST");
export const RESPONSE_INPUT_ITEMS = storedResponse("responses.input_items", "/responses/:id/input_items", "GET");

export const STORED_RESPONSE_OPERATIONS: readonly Operation[] = [RESPONSE_GET, RESPONSE_DELETE, RESPONSE_CANCEL, RESPONSE_INPUT_ITEMS];

/**
 * The v1 resources relayed as they are (files, batches, vector stores, fine-tuning): always to
 * the v1 API, which every resource has, with only the key swapped (no per-field schema).
 */
export const V1_RESOURCES: readonly string[] = ["files", "batches", "vector_stores", "fine_tuning"];
export const V1_RESOURCE = op({
  id: "v1.resource",
  suffix: "",
  method: "POST",
  deploymentScoped: false,
  body: "passthrough",
  dated: "none",
  v1: "ga",
  routedByModel: false,
  refersToObjects: true,
});
