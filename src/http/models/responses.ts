/** The Responses API: `input` is text or a list of items; much else is forwarded as it is. */
import { t } from "elysia";
import { Integer, ModelName, nullable, open } from "./common.ts";

const fields = {
  input: t.Optional(t.Union([t.String(), t.Array(t.Object({}, open))], { hint: "a string or an array of input items" })),
  stream: nullable(t.Boolean()),
  background: nullable(t.Boolean()),
  max_output_tokens: nullable(Integer({ minimum: 1 })),
};

export const ResponseRequest = t.Object({ model: ModelName, ...fields }, open);
