/** Schema pieces shared by the request models. Unknown fields are always allowed and forwarded. */
import { t, type TSchema } from "elysia";

export const open = { additionalProperties: true } as const;

/** OpenAI accepts `null` for most optional parameters, meaning "use the default". */
export const nullable = <T extends TSchema>(schema: T) => t.Optional(t.Union([schema, t.Null()]));

export const ModelName = t.String({ minLength: 1, hint: "a non-empty model name" });
