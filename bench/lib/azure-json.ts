/** Azure's non-streamed chat completion as the benchmark's upstreams send it (bench/mock-upstream.ts, bench/request-cost.ts). */
import { FILTERS } from "./azure-sse.ts";

export const JSON_BODY = `{"choices":[{"content_filter_results":${FILTERS},"finish_reason":"stop","index":0,"logprobs":null,"message":{"annotations":[],"content":"Response content here","refusal":null,"role":"assistant"}}],"created":1754396640,"id":"chatcmpl-C1AzwZZD1ea9wUuqXbOHCWwGHYVJX","model":"gpt-4.1-2025-04-14","object":"chat.completion","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"jailbreak":{"filtered":false,"detected":false},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}}],"system_fingerprint":"fp_b663f05c2c","usage":{"completion_tokens":29,"completion_tokens_details":{"accepted_prediction_tokens":0,"audio_tokens":0,"reasoning_tokens":0,"rejected_prediction_tokens":0},"prompt_tokens":26,"prompt_tokens_details":{"audio_tokens":0,"cached_tokens":0},"total_tokens":55}}`;
// Headers Azure sends on every answer (docs/azure.md §5.3): the proxy has to copy them.
export const AZURE_HEADERS = {
  "apim-request-id": "0e3c4a4e-7b1e-4d5e-9a55-6c1b0f6c2f11",
  "x-ms-region": "East US",
  "x-ratelimit-remaining-requests": "79",
  "x-ratelimit-remaining-tokens": "61353",
};
export const JSON_HEADERS = { "content-type": "application/json", ...AZURE_HEADERS };
