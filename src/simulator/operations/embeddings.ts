/**
 * Embeddings, docs/azure.md §7: `input` as a string, strings, token ids or lists of token
 * ids (v1); `{object:"list", model, data[{object:"embedding", index, embedding}],
 * usage{prompt_tokens, total_tokens}}`; no content filter annotations. `dimensions` only for
 * text-embedding-3 and later; `encoding_format: "base64"` returns the little-endian float32
 * bytes as base64 (what the openai SDKs decode). Vectors are deterministic per input text and
 * unit length, so tests can compare them.
 */
import { toBase64 } from "../request-body.ts";
import { tokens } from "./chat.ts";
import { invalidRequest, json, type OperationContext } from "./context.ts";

const DEFAULT_DIMENSIONS = 1536;
const MAX_INPUTS = 2048;

// Observed from Azure for an empty string among the inputs [Azure-Samples/azure-search-openai-demo#1134]
const INVALID_INPUT = invalidRequest("'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.");

/** Each input as text (token ids joined) plus its token count; undefined when Azure rejects it. */
function inputsOf(input: unknown): Array<{ text: string; tokens: number }> | undefined {
  const one = (value: unknown) => {
    if (typeof value === "string") return value === "" ? undefined : { text: value, tokens: Math.max(1, tokens(value).length) };
    if (Array.isArray(value) && value.length > 0 && value.every((t) => Number.isInteger(t))) return { text: value.join(","), tokens: value.length };
    return undefined;
  };
  if (typeof input === "string") return one(input) ? [one(input)!] : undefined;
  if (!Array.isArray(input) || input.length === 0 || input.length > MAX_INPUTS) return undefined;
  if (input.every((t) => Number.isInteger(t))) return [one(input)!];
  const all = input.map(one);
  return all.every((i) => i !== undefined) ? (all as Array<{ text: string; tokens: number }>) : undefined;
}

export function handleEmbeddings({ body, model, headers }: OperationContext): Response {
  const inputs = inputsOf(body.input);
  if (!inputs) return json(INVALID_INPUT, 400, headers);

  let dimensions = DEFAULT_DIMENSIONS;
  if (body.dimensions !== undefined && body.dimensions !== null) {
    // Azure passes OpenAI's refusal through for ada-002 [issues microsoft/kernel-memory#805, SciPhi-AI/R2R#768]
    if (!model.startsWith("text-embedding-3")) return json(invalidRequest("This model does not support specifying dimensions."), 400, headers);
    if (!Number.isInteger(body.dimensions) || (body.dimensions as number) < 1 || (body.dimensions as number) > 3072) {
      return json(
        invalidRequest(`Invalid value for 'dimensions' = ${JSON.stringify(body.dimensions)}. Must be a positive integer up to 3072.`, "dimensions"),
        400,
        headers,
      );
    }
    dimensions = body.dimensions as number;
  }
  const base64 = body.encoding_format === "base64";
  if (body.encoding_format !== undefined && body.encoding_format !== null && !base64 && body.encoding_format !== "float") {
    return json(
      invalidRequest(`Invalid value: '${String(body.encoding_format)}'. Supported values are: 'float' and 'base64'.`, "encoding_format", "invalid_value"),
      400,
      headers,
    );
  }

  const data = inputs.map((input, index) => {
    const vector = vectorFor(input.text, dimensions);
    const embedding = base64 ? toBase64(littleEndian(vector)) : Array.from(vector);
    return { object: "embedding", index, embedding };
  });
  const promptTokens = inputs.reduce((sum, i) => sum + i.tokens, 0);
  return json({ object: "list", data, model, usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } }, 200, headers);
}

/** A unit-length float32 vector seeded by the text (FNV-1a → xorshift32). */
export function vectorFor(text: string, dimensions: number): Float32Array {
  let seed = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) seed = Math.imul(seed ^ byte, 0x01000193) >>> 0;
  const vector = new Float32Array(dimensions);
  let norm = 0;
  for (let i = 0; i < dimensions; i++) {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    seed >>>= 0;
    const value = seed / 0xffffffff - 0.5;
    vector[i] = value;
    norm += value * value;
  }
  const scale = 1 / Math.sqrt(norm || 1);
  for (let i = 0; i < dimensions; i++) vector[i] = vector[i]! * scale;
  return vector;
}

function littleEndian(vector: Float32Array): Uint8Array {
  const bytes = new Uint8Array(vector.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < vector.length; i++) view.setFloat32(i * 4, vector[i]!, true);
  return bytes;
}
