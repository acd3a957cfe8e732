/**
 * Image generation and edits, docs/azure.md §7 "Images".
 * dall-e-3: `data[{url, revised_prompt, prompt_filter_results, content_filter_results}]`, where
 * prompt_filter_results is a per-image OBJECT (not chat's array), `n` at most 1, `url` or
 * `b64_json` by `response_format`. gpt-image-1: always `data[{b64_json}]`; `response_format` is
 * refused. Edits (multipart `image`/`image[]`, `prompt`, optional `mask`) are gpt-image-1 only.
 * The image is a real 1×1 PNG; dall-e URLs point back at the simulator so they download.
 */
import { fromBase64 } from "../request-body.ts";
import { field, invalidRequest, json, type OperationContext } from "./context.ts";

const PNG_BASE64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
export const TINY_PNG = fromBase64(PNG_BASE64);

const SAFE = { filtered: false, severity: "safe" };
// key order as in the 2024-10-21 image_generation.json example
const CONTENT_FILTER = { sexual: SAFE, violence: SAFE, hate: SAFE, self_harm: SAFE };
const PROMPT_FILTER = { ...CONTENT_FILTER, profanity: { detected: false, filtered: false } };

/** §5.2 "Image prompt/output filtered": the `[sim filter=prompt]` answer for image operations. */
export const IMAGE_PROMPT_FILTERED = { created: 1698435368, error: { code: "contentFilter", message: "Your task failed as a result of our safety system." } };
const IMAGE_OUTPUT_FILTERED = { error: { code: "contentFilter", message: "Generated image was filtered as a result of our safety system." } };

function isGptImage(model: string): boolean {
  return model.startsWith("gpt-image");
}

export function handleImageGenerations({ body, model, faults, headers, url }: OperationContext): Response {
  const prompt = body.prompt;
  if (typeof prompt !== "string" || prompt === "") return json(invalidRequest("'prompt' is a required property", "prompt"), 400, headers);
  if (faults.filter === "output") return json({ created: unixNow(), ...IMAGE_OUTPUT_FILTERED }, 400, headers);
  const created = unixNow();

  if (isGptImage(model)) {
    // §7: "`response_format` is not supported: output is always b64_json" (message: OpenAI's, inferred)
    if (body.response_format !== undefined)
      return json(invalidRequest("Unknown parameter: 'response_format'.", "response_format", "unknown_parameter"), 400, headers);
    const n = typeof body.n === "number" ? body.n : 1;
    if (!Number.isInteger(n) || n < 1 || n > 10)
      return json(invalidRequest(`Invalid 'n': integer must be between 1 and 10.`, "n", "invalid_value"), 400, headers);
    return json(gptImageResult(created, n), 200, headers);
  }

  // dall-e-3: n is 1 (spec: min 1, max 1)
  if (body.n !== undefined && body.n !== 1) return json(invalidRequest("You must provide n=1 for this model.", "n"), 400, headers);
  const format = body.response_format ?? "url";
  if (format !== "url" && format !== "b64_json")
    return json(
      invalidRequest(`Invalid value: '${String(format)}'. Supported values are: 'url' and 'b64_json'.`, "response_format", "invalid_value"),
      400,
      headers,
    );
  const expiry = new Date(Date.now() + 24 * 3600_000).toISOString().replace(/\.\d+Z$/, "Z");
  const image =
    format === "url"
      ? { url: `${url.origin}/_sim/images/${crypto.randomUUID()}/generated_00.png?se=${encodeURIComponent(expiry)}&sig=simulated` }
      : { b64_json: PNG_BASE64 };
  const revised = `A simulated rendering of: ${prompt.slice(0, 200)}`;
  return json(
    { created, data: [{ revised_prompt: revised, prompt_filter_results: PROMPT_FILTER, ...image, content_filter_results: CONTENT_FILTER }] },
    200,
    headers,
  );
}

export function handleImageEdits({ form, faults, headers }: OperationContext): Response {
  const images = [...(form?.getAll("image") ?? []), ...(form?.getAll("image[]") ?? [])].filter((v) => typeof v !== "string");
  if (images.length === 0) return json(invalidRequest("'image' is a required property", "image"), 400, headers);
  if (field(form, "prompt") === "") return json(invalidRequest("'prompt' is a required property", "prompt"), 400, headers);
  if (faults.filter === "output") return json({ created: unixNow(), ...IMAGE_OUTPUT_FILTERED }, 400, headers);
  const n = Number(field(form, "n") || "1");
  if (!Number.isInteger(n) || n < 1 || n > 10)
    return json(invalidRequest(`Invalid 'n': integer must be between 1 and 10.`, "n", "invalid_value"), 400, headers);
  return json(gptImageResult(unixNow(), n), 200, headers);
}

/** §7, verbatim shape: `{"created":…,"data":[{"b64_json":"<base64>"}]}`. */
function gptImageResult(created: number, n: number) {
  return { created, data: Array.from({ length: n }, () => ({ b64_json: PNG_BASE64 })) };
}

/** What a dall-e `url` serves: the same tiny PNG. */
export function serveGeneratedImage(): Response {
  return new Response(TINY_PNG, { headers: { "content-type": "image/png" } });
}

function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}
