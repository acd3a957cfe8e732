/**
 * Embeddings: text, texts, token ids or lists of token ids (LangChain sends token arrays by
 * default). Azure caps a request at 2048 inputs and refuses empty strings (docs/azure.md §7).
 */
import { t } from "elysia";
import { Integer, ModelName, nullable, open } from "./common.ts";

const Text = t.String({ minLength: 1 });
const TokenIds = t.Array(Integer({ minimum: 0 }), { minItems: 1 });

const fields = {
  input: t.Union([Text, t.Array(Text, { minItems: 1, maxItems: 2048 }), TokenIds, t.Array(TokenIds, { minItems: 1, maxItems: 2048 })], {
    hint: "a non-empty string, an array of 1-2048 non-empty strings, an array of token ids, or an array of 1-2048 token-id arrays",
  }),
  encoding_format: t.Optional(t.Union([t.Literal("float"), t.Literal("base64")])),
  dimensions: nullable(Integer({ minimum: 1 })),
  user: nullable(t.String()),
};

export const EmbeddingRequest = t.Object({ model: ModelName, ...fields }, open);
export const DeploymentEmbeddingRequest = t.Object({ model: t.Optional(t.String()), ...fields }, open);
