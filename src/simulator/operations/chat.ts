/**
 * Chat completions, streamed and not, in the exact shapes of docs/azure.md §3.2-3.6 and
 * §4.2: the prompt-filter chunk with empty `choices` first, a role chunk, content chunks with
 * `content_filter_results`, a finish chunk, the usage chunk only for `include_usage` (and then
 * `"usage": null` on every other chunk), and `data: [DONE]`.
 */
import { MID_STREAM_ERROR } from "../azure-errors.ts";
import type { Faults } from "../faults.ts";
import { applyStreamFaults, type Step } from "../sse-writer.ts";
import { json, type OperationContext } from "./context.ts";

export const DEFAULT_REPLY = "Hello! 你好，世界 🌍 Ça va? Привет — I am the Azure simulator.";

const SAFE = { filtered: false, severity: "safe" };
export const FILTER_RESULTS = { hate: SAFE, self_harm: SAFE, sexual: SAFE, violence: SAFE };
export const PROMPT_FILTER_RESULTS = [
  { prompt_index: 0, content_filter_results: { hate: SAFE, jailbreak: { filtered: false, detected: false }, self_harm: SAFE, sexual: SAFE, violence: SAFE } },
];

export interface ChatRequest {
  messages?: Array<{ content?: unknown }>;
  stream?: boolean;
  stream_options?: { include_usage?: boolean } | null;
  n?: number;
}

/** Roughly one token per word or CJK character: good enough for usage numbers that add up. */
export function tokens(text: string): string[] {
  return text.match(/[\u3000-\u9fff\uff00-\uffef]|[^\s\u3000-\u9fff\uff00-\uffef]+\s*|\s+/gu) ?? [];
}

function promptTokens(request: ChatRequest): number {
  const text = (request.messages ?? []).map((m) => (typeof m.content === "string" ? m.content : JSON.stringify(m.content ?? ""))).join(" ");
  return Math.max(1, tokens(text).length) + 7;
}

export function completionJson(request: ChatRequest, model: string, reply: string, id: string, created: number) {
  const prompt = promptTokens(request);
  const completion = tokens(reply).length;
  return {
    choices: [
      {
        content_filter_results: FILTER_RESULTS,
        finish_reason: "stop",
        index: 0,
        logprobs: null,
        message: { annotations: [], content: reply, refusal: null, role: "assistant" },
      },
    ],
    created,
    id,
    model,
    object: "chat.completion",
    prompt_filter_results: PROMPT_FILTER_RESULTS,
    system_fingerprint: "fp_simulator",
    usage: {
      completion_tokens: completion,
      completion_tokens_details: { accepted_prediction_tokens: 0, audio_tokens: 0, reasoning_tokens: 0, rejected_prediction_tokens: 0 },
      prompt_tokens: prompt,
      prompt_tokens_details: { audio_tokens: 0, cached_tokens: 0 },
      total_tokens: prompt + completion,
    },
  };
}

/** The event sequence of one streamed answer, with the faults applied in order. */
export function streamSteps(request: ChatRequest, model: string, reply: string, id: string, created: number, faults: Faults, midStreamError: string): Step[] {
  const withUsage = request.stream_options?.include_usage === true;
  const usageNull = withUsage ? { usage: null } : {};
  const chunk = (choice: Record<string, unknown>) =>
    JSON.stringify({
      choices: [{ content_filter_results: {}, ...choice, index: 0, logprobs: null }],
      created,
      id,
      model,
      object: "chat.completion.chunk",
      system_fingerprint: "fp_simulator",
      ...usageNull,
    });
  const parts = tokens(reply);
  const events: string[] = [];
  if (!faults.noPromptChunk) {
    events.push(JSON.stringify({ choices: [], created: 0, id: "", model: "", object: "", prompt_filter_results: PROMPT_FILTER_RESULTS }));
  }
  events.push(chunk({ delta: { content: "", refusal: null, role: "assistant" }, finish_reason: null }));
  // Asynchronous Filter mode (§3.5): annotations have no delta and blank id/model/object; they
  // trail the text they judge, the last one after the finish chunk.
  let offset = 0;
  const annotation = () =>
    JSON.stringify({
      id: "",
      object: "",
      created: 0,
      model: "",
      choices: [
        {
          index: 0,
          finish_reason: null,
          content_filter_results: FILTER_RESULTS,
          content_filter_offsets: { check_offset: 0, start_offset: 0, end_offset: offset },
        },
      ],
      usage: null,
    });
  parts.forEach((part, i) => {
    events.push(chunk({ content_filter_results: faults.asyncFilter ? undefined : FILTER_RESULTS, delta: { content: part }, finish_reason: null }));
    offset += part.length;
    if (faults.asyncFilter && i % 3 === 2) events.push(annotation());
  });
  events.push(chunk({ delta: {}, finish_reason: faults.filter === "output" ? "content_filter" : "stop" }));
  if (faults.asyncFilter) events.push(annotation());
  if (withUsage) {
    const prompt = promptTokens(request);
    events.push(
      JSON.stringify({
        choices: [],
        created,
        id,
        model,
        object: "chat.completion.chunk",
        system_fingerprint: "fp_simulator",
        usage: { completion_tokens: parts.length, prompt_tokens: prompt, total_tokens: prompt + parts.length },
      }),
    );
  }

  return applyStreamFaults(
    events.map((event) => ({ event })),
    faults,
    { error: [{ event: midStreamError }, { event: "[DONE]" }], done: [{ event: "[DONE]" }] },
  );
}

export function handleChat({ body, model, faults, headers, entry, streamed }: OperationContext): Response {
  const request = body as ChatRequest;
  const reply = faults.reply ?? DEFAULT_REPLY;
  const id = `chatcmpl-SIM${entry.seq.toString().padStart(8, "0")}`;
  const created = Math.floor(entry.receivedAt / 1000);
  if (request.stream !== true) return json(completionJson(request, model, reply, id, created), 200, headers);
  headers.set("content-type", "text/event-stream; charset=utf-8");
  return streamed(streamSteps(request, model, reply, id, created, faults, JSON.stringify(MID_STREAM_ERROR)));
}
