/**
 * Chat completions request, as far as the proxy needs to know it: the fields it reads
 * (`model`, `stream`) and the ones whose wrong type would only waste an upstream call. Every
 * other field is accepted and forwarded as sent, so new OpenAI parameters keep working.
 */
import { t } from "elysia";
import { Integer, ModelName, nullable, open } from "./common.ts";

const Role = t.Union(
  ["system", "developer", "user", "assistant", "tool", "function"].map((r) => t.Literal(r)),
  { hint: 'expected one of "system", "developer", "user", "assistant", "tool", "function"' },
);

const ContentPart = t.Object({ type: t.String({ minLength: 1 }) }, open);

const Message = t.Object(
  {
    role: Role,
    content: t.Optional(t.Union([t.String(), t.Array(ContentPart), t.Null()], { hint: "expected a string, an array of content parts, or null" })),
  },
  open,
);

const fields = {
  messages: t.Array(Message, { minItems: 1, hint: "expected a non-empty array of messages" }),
  stream: nullable(t.Boolean()),
  stream_options: nullable(t.Object({ include_usage: t.Optional(t.Boolean()) }, open)),
  temperature: nullable(t.Number({ minimum: 0, maximum: 2 })),
  top_p: nullable(t.Number({ minimum: 0, maximum: 1 })),
  n: nullable(Integer({ minimum: 1 })),
  max_tokens: nullable(Integer({ minimum: 1 })),
  max_completion_tokens: nullable(Integer({ minimum: 1 })),
  presence_penalty: nullable(t.Number({ minimum: -2, maximum: 2 })),
  frequency_penalty: nullable(t.Number({ minimum: -2, maximum: 2 })),
  stop: nullable(t.Union([t.String(), t.Array(t.String())])),
  tools: nullable(t.Array(t.Object({ type: t.String() }, open))),
  user: nullable(t.String()),
};

/** OpenAI shape: `/v1/chat/completions` and `/openai/v1/chat/completions` (model required). */
export const ChatCompletionRequest = t.Object({ model: ModelName, ...fields }, open);

/** Azure dated shape: the deployment is in the path, `model` is optional (docs/azure.md §1.2). */
export const DeploymentChatCompletionRequest = t.Object({ model: t.Optional(t.String()), ...fields }, open);
