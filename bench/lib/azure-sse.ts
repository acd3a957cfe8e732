/**
 * Azure's chat completion stream as the benchmark's mock sends it (captured shapes, docs/azure.md):
 * the prompt-filter chunk and the role chunk first, then content chunks, then the finish and
 * `[DONE]`. Shared by the mock upstream and the relay's own cost (relay-cost.ts), so both price
 * the same bytes.
 */
const encoder = new TextEncoder();

export const FILTERS =
  '{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}';
const TAIL =
  '"created":1742460935,"id":"chatcmpl-BD5yZBfhSLLcuDtRtF48KwOywtED5","model":"gpt-4o-2024-11-20","object":"chat.completion.chunk","system_fingerprint":"fp_ded0d14823"}\n\n';
export const HEAD = encoder.encode(
  'data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"jailbreak":{"filtered":false,"detected":false},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}}]}\n\n' +
    `data: {"choices":[{"content_filter_results":{},"delta":{"content":"","refusal":null,"role":"assistant"},"finish_reason":null,"index":0,"logprobs":null}],${TAIL}`,
);
// Distinct content per index (` t17`) so a reordering or duplication would be visible in a dump.
export const CONTENT = Array.from({ length: 1024 }, (_, i) =>
  encoder.encode(
    `data: {"choices":[{"content_filter_results":${FILTERS},"delta":{"content":" t${i}"},"finish_reason":null,"index":0,"logprobs":null}],${TAIL}`,
  ),
);
export const END = encoder.encode(
  `data: {"choices":[{"content_filter_results":{},"delta":{},"finish_reason":"stop","index":0,"logprobs":null}],${TAIL}data: [DONE]\n\n`,
);
