/** Legacy completions: `prompt` may be text, texts, token ids or lists of token ids. */
import { t } from "elysia";
import { Integer, ModelName, nullable, open } from "./common.ts";

const fields = {
  prompt: t.Union([t.String(), t.Array(t.String()), t.Array(Integer()), t.Array(t.Array(Integer()))], {
    hint: "a string, an array of strings, an array of token ids, or an array of token-id arrays",
  }),
  stream: nullable(t.Boolean()),
  max_tokens: nullable(Integer({ minimum: 0 })),
  temperature: nullable(t.Number({ minimum: 0, maximum: 2 })),
  top_p: nullable(t.Number({ minimum: 0, maximum: 1 })),
  n: nullable(Integer({ minimum: 1 })),
};

export const CompletionRequest = t.Object({ model: ModelName, ...fields }, open);
export const DeploymentCompletionRequest = t.Object({ model: t.Optional(t.String()), ...fields }, open);
