/** Field shapes the config schema files share (schema.ts, key-schema.ts). */
import { Type } from "@sinclair/typebox";

export const Name = Type.String({ minLength: 1, pattern: "^[A-Za-z0-9_.-]+$", description: "Letters, digits, '.', '_' or '-'." });
export const Positive = (description: string, def?: number) => Type.Integer({ minimum: 1, description, ...(def === undefined ? {} : { default: def }) });
