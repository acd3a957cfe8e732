/**
 * What each chat message needs by its role, as OpenAI checks it: the TypeBox schema (chat.ts)
 * checks types, this checks the fields a role requires, so a message Azure would refuse is
 * answered here with the field's name instead of costing an upstream call:
 *   system, developer, user, tool: `content` (a string or content parts, not null);
 *   tool: also `tool_call_id`;
 *   assistant: `content`, or `tool_calls` / `function_call` (the model's call without text).
 * Runs after the schema, so `messages` is an array of objects with a known role.
 */
import { Failure } from "../../lib/failure.ts";

type Message = { role: string; content?: unknown; tool_calls?: unknown; function_call?: unknown; tool_call_id?: unknown };

const NEEDS_CONTENT = new Set(["system", "developer", "user", "tool"]);

export function checkChatMessages(messages: readonly Message[]): void {
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    const hasContent = m.content !== undefined && m.content !== null;
    if (NEEDS_CONTENT.has(m.role) && !hasContent) throw missing(`messages[${i}].content`, `a '${m.role}' message needs content`);
    if (m.role === "tool" && typeof m.tool_call_id !== "string") throw missing(`messages[${i}].tool_call_id`, "a 'tool' message answers one tool call by its id");
    if (m.role === "assistant" && !hasContent && !nonEmpty(m.tool_calls) && (m.function_call === undefined || m.function_call === null)) {
      throw missing(`messages[${i}].content`, "an 'assistant' message needs content, tool_calls or function_call");
    }
  }
}

function nonEmpty(value: unknown): boolean {
  return Array.isArray(value) && value.length > 0;
}

function missing(param: string, why: string): Failure {
  return new Failure("invalid_request", `Missing required parameter: '${param}' (${why}).`, { param, code: "missing_required_parameter" });
}
