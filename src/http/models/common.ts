/** Schema pieces shared by the request models. Unknown fields are always allowed and forwarded. */
import { Type } from "@sinclair/typebox";
import { t, type TSchema } from "elysia";

export const open = { additionalProperties: true } as const;

/** OpenAI accepts `null` for most optional parameters, meaning "use the default". */
export const nullable = <T extends TSchema>(schema: T) => t.Optional(t.Union([schema, t.Null()]));

/**
 * TypeBox's integer, not Elysia's `t.Integer`: that one is a transform that also takes a numeric
 * string ("100"), which then passed validation while the text forwarded to Azure still held the
 * string, and made Elysia decode (walk and copy) every body after checking it.
 */
export const Integer = Type.Integer;

export const ModelName = t.String({ minLength: 1, hint: "a non-empty model name" });

/** A file part of a multipart form, as request-body.ts describes it to the schema. */
const FileInfo = t.Object(
  { filename: t.String(), size: Integer(), content_type: t.Union([t.String(), t.Null()]) },
  { hint: "a file (a form part with a filename)" },
);
export const FileField = t.Union([FileInfo, t.Array(FileInfo, { minItems: 1 })], { hint: "a file (a form part with a filename)" });
