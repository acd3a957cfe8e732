/**
 * Legacy completions (gpt-35-turbo-instruct), docs/azure.md §4.1-4.3: `choices[].text`,
 * `object: "text_completion"`, Azure's `prompt_filter_results` on top and
 * `content_filter_results` per choice (§4.1, from the 2024-10-21 createCompletionResponse).
 * Streamed like chat (§3.2): the prompt-filter chunk with empty `choices` first, text chunks,
 * a finish chunk, the usage chunk only for `include_usage`, then `data: [DONE]`.
 */
import { MID_STREAM_ERROR } from "../azure-errors.ts";
import { applyStreamFaults } from "../sse-writer.ts";
import { DEFAULT_REPLY, FILTER_RESULTS, PROMPT_FILTER_RESULTS, tokens } from "./chat.ts";
import { json, type OperationContext } from "./context.ts";

interface CompletionRequest {
  prompt?: unknown;
  n?: unknown;
  stream?: unknown;
  stream_options?: { include_usage?: boolean } | null;
}

/** `prompt` is a string, a list of strings, or token ids (one list or several). */
function prompts(prompt: unknown): string[] {
  if (Array.isArray(prompt)) {
    if (prompt.length === 0) return [""];
    if (prompt.every((p) => typeof p === "number")) return [prompt.join(" ")];
    return prompt.map((p) => (typeof p === "string" ? p : Array.isArray(p) ? p.join(" ") : String(p)));
  }
  return [typeof prompt === "string" ? prompt : ""];
}

function promptFilterResults(count: number) {
  return Array.from({ length: count }, (_, i) => ({ ...PROMPT_FILTER_RESULTS[0]!, prompt_index: i }));
}

export function handleCompletions({ body, model, faults, headers, entry, streamed }: OperationContext): Response {
  const request = body as CompletionRequest;
  const reply = faults.reply ?? DEFAULT_REPLY;
  const id = `cmpl-SIM${entry.seq.toString().padStart(8, "0")}`;
  const created = Math.floor(entry.receivedAt / 1000);
  const inputs = prompts(request.prompt);
  const promptTokens = inputs.reduce((sum, p) => sum + Math.max(1, tokens(p).length), 0);
  const parts = tokens(reply);
  const finish = faults.filter === "output" ? "content_filter" : "stop";

  if (request.stream !== true) {
    const n = typeof request.n === "number" && request.n > 1 ? Math.min(request.n, 16) : 1;
    const choices = Array.from({ length: inputs.length * n }, (_, index) => ({
      content_filter_results: FILTER_RESULTS,
      finish_reason: finish,
      index,
      logprobs: null,
      text: reply,
    }));
    const completion = parts.length * choices.length;
    return json(
      {
        choices,
        created,
        id,
        model,
        object: "text_completion",
        prompt_filter_results: promptFilterResults(inputs.length),
        usage: { completion_tokens: completion, prompt_tokens: promptTokens, total_tokens: promptTokens + completion },
      },
      200,
      headers,
    );
  }

  const withUsage = request.stream_options?.include_usage === true;
  const usageNull = withUsage ? { usage: null } : {};
  const chunk = (choice: Record<string, unknown>) =>
    JSON.stringify({
      choices: [{ content_filter_results: {}, ...choice, index: 0, logprobs: null }],
      created,
      id,
      model,
      object: "text_completion",
      ...usageNull,
    });
  const events: string[] = [];
  if (!faults.noPromptChunk) {
    events.push(JSON.stringify({ choices: [], created: 0, id: "", model: "", object: "", prompt_filter_results: promptFilterResults(inputs.length) }));
  }
  for (const part of parts) events.push(chunk({ content_filter_results: FILTER_RESULTS, finish_reason: null, text: part }));
  events.push(chunk({ finish_reason: finish, text: "" }));
  if (withUsage) {
    const usage = { completion_tokens: parts.length, prompt_tokens: promptTokens, total_tokens: promptTokens + parts.length };
    events.push(JSON.stringify({ choices: [], created, id, model, object: "text_completion", usage }));
  }
  headers.set("content-type", "text/event-stream; charset=utf-8");
  return streamed(
    applyStreamFaults(
      events.map((event) => ({ event })),
      faults,
      { error: [{ event: JSON.stringify(MID_STREAM_ERROR) }, { event: "[DONE]" }], done: [{ event: "[DONE]" }] },
    ),
  );
}
