/**
 * How many tokens a request may use, as Azure reckons it for its rate limit before running it:
 * the prompt, plus the most the answer may take. Prompt: characters / 4 (about 4 per token of
 * English; the same as bytes for ASCII, without encoding the body); answer: `max_tokens`, `max_completion_tokens` or `max_output_tokens`, or
 * DEFAULT_ANSWER_TOKENS when the client set none. Only headroom routing uses it, and only when
 * a deployment's remaining tokens are known.
 */
import type { ProxyCall } from "./call.ts";

export const DEFAULT_ANSWER_TOKENS = 1_024;

// a key inside a JSON string would be escaped (\"max_tokens\"), so this finds members only
const MAX_ANSWER = /"max_(?:completion_|output_)?tokens"\s*:\s*(\d+)/;

export function estimateTokens(call: Pick<ProxyCall, "body">): number {
  const { body } = call;
  if (body.kind !== "json") return DEFAULT_ANSWER_TOKENS;
  const answer = MAX_ANSWER.exec(body.text);
  return Math.ceil(body.text.length / 4) + (answer ? Number(answer[1]) : DEFAULT_ANSWER_TOKENS);
}
