/**
 * The Responses API (docs/azure.md §1.3, §1.4, §8.10): `POST /openai/v1/responses` and the
 * dated preview `POST /openai/responses?api-version=2025-03-01-preview+`. The answer is a
 * `response` object whose `model` is the deployment name, as Azure's sample echoes it (§4.1).
 * With `stream: true` it is typed SSE (`event: <type>` + `data: {type, sequence_number, …}`)
 * ending with `response.completed` and no `[DONE]`. Stored responses live in state.responses
 * for the GET/DELETE/cancel/input_items rows (responses-store.ts).
 */
import { applyStreamFaults, type Step } from "../sse-writer.ts";
import { newId } from "../store.ts";
import { DEFAULT_REPLY, tokens } from "./chat.ts";
import { invalidRequest, json, type OperationContext, type StoredResponse } from "./context.ts";

type Item = Record<string, unknown> & { id: string };

/** The request's `input` as stored input items (a string is one user message). */
function inputItems(input: unknown): Item[] | undefined {
  const message = (role: string, text: string): Item => ({ id: newId("msg_"), type: "message", role, content: [{ type: "input_text", text }] });
  if (typeof input === "string") return [message("user", input)];
  if (!Array.isArray(input) || input.length === 0) return undefined;
  const items: Item[] = [];
  for (const raw of input) {
    if (raw === null || typeof raw !== "object") return undefined;
    const item = raw as Record<string, unknown>;
    if (typeof item.content === "string" && typeof item.role === "string") items.push(message(item.role, item.content));
    else items.push({ type: "message", ...item, id: typeof item.id === "string" ? item.id : newId("msg_") });
  }
  return items;
}

function textOf(items: Item[]): string {
  return items.map((i) => JSON.stringify(i.content ?? "")).join(" ");
}

/** A response object in OpenAI's field order, for the given status and output. */
function responseObject(ctx: OperationContext, id: string, createdAt: number, status: string, output: unknown[], usage: unknown, incomplete: unknown = null) {
  const b = ctx.body;
  return {
    id,
    object: "response",
    created_at: createdAt,
    status,
    background: b.background === true,
    error: null,
    incomplete_details: incomplete,
    instructions: b.instructions ?? null,
    max_output_tokens: b.max_output_tokens ?? null,
    model: ctx.deployment,
    output,
    parallel_tool_calls: b.parallel_tool_calls ?? true,
    previous_response_id: b.previous_response_id ?? null,
    reasoning: { effort: null, summary: null },
    store: b.store !== false,
    temperature: b.temperature ?? 1,
    text: b.text ?? { format: { type: "text" } },
    tool_choice: b.tool_choice ?? "auto",
    tools: b.tools ?? [],
    top_p: b.top_p ?? 1,
    truncation: b.truncation ?? "disabled",
    usage,
    user: b.user ?? null,
    metadata: b.metadata ?? {},
  };
}

/** The finished response (completed, or incomplete for `[sim filter=output]`). */
export function finishedResponse(ctx: OperationContext, id: string, createdAt: number, items: Item[], messageId: string) {
  const all = tokens(ctx.faults.reply ?? DEFAULT_REPLY);
  const filtered = ctx.faults.filter === "output";
  const parts = filtered ? all.slice(0, Math.ceil(all.length / 2)) : all;
  const text = parts.join("");
  const content = [{ type: "output_text", annotations: [], text }];
  const message = { id: messageId, type: "message", status: filtered ? "incomplete" : "completed", content, role: "assistant" };
  const input = Math.max(1, tokens(textOf(items) + String(ctx.body.instructions ?? "")).length);
  const usage = {
    input_tokens: input,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: parts.length,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: input + parts.length,
  };
  const response = responseObject(ctx, id, createdAt, filtered ? "incomplete" : "completed", [message], usage, filtered ? { reason: "content_filter" } : null);
  return { response, parts, message };
}

export function handleCreateResponse(ctx: OperationContext): Response {
  const { body, headers, state, faults } = ctx;
  const items = inputItems(body.input);
  if (!items) return json(invalidRequest("Invalid value for 'input': expected a string or a list of input items.", "input"), 400, headers);
  const id = newId("resp_");
  const messageId = newId("msg_");
  const createdAt = Math.floor(ctx.entry.receivedAt / 1000);
  const stored = body.store !== false;
  const final = finishedResponse(ctx, id, createdAt, items, messageId);
  const keep = (record: StoredResponse) => stored && state.responses.put(id, record);

  if (body.background === true && body.stream !== true) {
    // Background mode: answer "queued" now; it completes after background_ms unless cancelled.
    const queued = responseObject(ctx, id, createdAt, "queued", [], null);
    keep({ id, response: queued, inputItems: items, finishAt: Date.now() + faults.backgroundMs, final: final.response });
    return json(queued, 200, headers);
  }
  keep({ id, response: final.response, inputItems: items });
  if (body.stream !== true) return json(final.response, 200, headers);

  const inProgress = responseObject(ctx, id, createdAt, "in_progress", [], null);
  const where = { item_id: messageId, output_index: 0, content_index: 0 };
  const text = final.parts.join("");
  const events: Array<[string, Record<string, unknown>]> = [
    ["response.created", { response: inProgress }],
    ["response.in_progress", { response: inProgress }],
    ["response.output_item.added", { output_index: 0, item: { id: messageId, type: "message", status: "in_progress", content: [], role: "assistant" } }],
    ["response.content_part.added", { ...where, part: { type: "output_text", annotations: [], text: "" } }],
    ...final.parts.map((delta): [string, Record<string, unknown>] => ["response.output_text.delta", { ...where, delta }]),
    ["response.output_text.done", { ...where, text }],
    ["response.content_part.done", { ...where, part: { type: "output_text", annotations: [], text } }],
    ["response.output_item.done", { output_index: 0, item: final.message }],
    [final.response.status === "completed" ? "response.completed" : "response.incomplete", { response: final.response }],
  ];
  const frame = (type: string, sequence: number, payload: Record<string, unknown>): Step => ({
    frame: `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence, ...payload })}\n\n`,
  });
  const error = frame("error", faults.errorAfter ?? 0, { code: "server_error", message: "The server had an error processing your request.", param: null });
  headers.set("content-type", "text/event-stream; charset=utf-8");
  return ctx.streamed(
    applyStreamFaults(
      events.map(([type, payload], i) => frame(type, i, payload)),
      faults,
      { error: [error], done: [] },
    ),
  );
}
