/**
 * What each chat message needs by its role, as OpenAI checks it: the TypeBox schema (chat.ts)
 * checks types, this checks the fields a role requires, so a message Azure would refuse is
 * answered here with the field's name instead of costing an upstream call:
 *   system, developer, user, tool: `content` (a string or content parts, not null);
 *   tool: also `tool_call_id`;
 *   assistant: `content`, or what the model answered instead of text: `tool_calls` /
 *   `function_call`, `audio` (an audio answer, referred to by id in the next turn) or `refusal`.
 *   The SDKs append the model's own message to the history as it came, content null and all,
 *   so refusing those would break every multi-turn audio or refusal conversation.
 * Runs after the schema, so `messages` is an array of objects with a known role.
 */
import { Failure } from "../../lib/failure.ts";

type Message = { role: string; content?: unknown; tool_calls?: unknown; function_call?: unknown; tool_call_id?: unknown; audio?: unknown; refusal?: unknown };

const NEEDS_CONTENT = new Set(["system", "developer", "user", "tool"]);

export function checkChatMessages(messages: readonly Message[]): void {
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    const hasContent = m.content !== undefined && m.content !== null;
    if (NEEDS_CONTENT.has(m.role) && !hasContent) throw missing(`messages[${i}].content`, `a '${m.role}' message needs content`);
    if (m.role === "tool" && typeof m.tool_call_id !== "string")
      throw missing(`messages[${i}].tool_call_id`, "a 'tool' message answers one tool call by its id");
    if (m.role === "assistant" && !hasContent && !answeredOtherwise(m)) {
      throw missing(`messages[${i}].content`, "an 'assistant' message needs content, tool_calls, function_call, audio or refusal");
    }
  }
}

function answeredOtherwise(m: Message): boolean {
  return nonEmpty(m.tool_calls) || present(m.function_call) || present(m.audio) || typeof m.refusal === "string";
}

function present(value: unknown): boolean {
  return value !== undefined && value !== null;
}

function nonEmpty(value: unknown): boolean {
  return Array.isArray(value) && value.length > 0;
}

function missing(param: string, why: string): Failure {
  return new Failure("invalid_request", `Missing required parameter: '${param}' (${why}).`, { param, code: "missing_required_parameter" });
}
