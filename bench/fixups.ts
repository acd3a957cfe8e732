/**
 * By hand: `bun bench/fixups.ts`. What the per-event stream work costs: a real Azure content
 * chunk (the fast path, nearly all of a stream) and a prompt-filter chunk (parsed, dropped),
 * through the transform the relay applies to an OpenAI-shaped chat stream; also the framing
 * cost per read, for comparison. (`npm run bench` measures the whole relay end to end.)
 */
import { keepChunk, streamTransform } from "../src/stream/fixups.ts";
import { SseFramer } from "../src/stream/sse-frames.ts";
import { StreamedText } from "../src/stream/usage-estimate.ts";

const encoder = new TextEncoder();
const content = encoder.encode(
  'data: {"choices":[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}},"delta":{"content":" capital"},"finish_reason":null,"index":0,"logprobs":null}],"created":1742460935,"id":"chatcmpl-BD5yZBfhSLLcuDtRtF48KwOywtED5","model":"gpt-4o-2024-11-20","object":"chat.completion.chunk","system_fingerprint":"fp_ded0d14823"}\n\n',
);
const prompt = encoder.encode(
  'data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"jailbreak":{"filtered":false,"detected":false},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}}]}\n\n',
);

function perCall(name: string, n: number, fn: () => unknown) {
  for (let i = 0; i < 10_000; i++) fn();
  const start = performance.now();
  for (let i = 0; i < n; i++) fn();
  const ns = ((performance.now() - start) * 1e6) / n;
  console.log(`${name.padEnd(52)} ${ns.toFixed(0).padStart(6)} ns/chunk`);
}

const fixups = streamTransform({ dropAnnotationsWithout: "delta", usageInjected: false })!;
const metered = streamTransform({ dropAnnotationsWithout: "delta", usageInjected: true, onUsage: () => {} })!;
const text = new TextDecoder().decode(content);
const framer = new SseFramer();
perCall("frame a read ending on a boundary", 1_000_000, () => framer.push(content));
perCall("keepChunk on decoded text: content chunk", 1_000_000, () => keepChunk(text, "delta"));
perCall("fix-ups: content chunk (decoded, kept)", 1_000_000, () => fixups(content));
perCall("fix-ups + usage tap: content chunk", 1_000_000, () => metered(content));
const counted = streamTransform({ dropAnnotationsWithout: "delta", usageInjected: true, onUsage: () => {}, text: new StreamedText(0, false) })!;
perCall("fix-ups + usage tap + event count: content chunk", 1_000_000, () => counted(content));
const read = streamTransform({ dropAnnotationsWithout: "delta", usageInjected: false, onUsage: () => {}, text: new StreamedText(0, true) })!;
perCall("fix-ups + usage tap + text count (old API): content chunk", 1_000_000, () => read(content));
perCall("fix-ups: prompt-filter chunk (parsed, dropped)", 200_000, () => fixups(prompt));
