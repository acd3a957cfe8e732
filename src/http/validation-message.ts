/**
 * TypeBox's errors → one message that names the field the way OpenAI does
 * (`messages[0].role`), so a client sees what to fix without reading a schema dump.
 */
import type { ValidationError } from "elysia";
import { Failure } from "../lib/failure.ts";

interface Schema {
  anyOf?: Schema[];
  const?: unknown;
  hint?: string;
  type?: string;
  minimum?: number;
  maximum?: number;
}

interface SchemaError {
  path: string;
  message: string;
  schema?: Schema;
  value?: unknown;
}

export function validationFailure(error: ValidationError): Failure {
  const all = (error.all ?? []) as SchemaError[];
  const first = all[0];
  if (!first) return new Failure("invalid_request", "The request body is not valid.", { code: "invalid_request" });
  const param = toParam(first.path);
  if (param === "") return new Failure("invalid_request", "The request body must be a JSON object.", { code: "invalid_type" });
  const expected = first.schema?.hint ?? describe(first);
  const missing = first.value === undefined;
  const message = missing ? `Missing required parameter: '${param}'.` : `Invalid value for '${param}': ${expected}.`;
  return new Failure("invalid_request", message, { param, code: missing ? "missing_required_parameter" : "invalid_value" });
}

function describe(error: SchemaError): string {
  const wanted = error.schema ? expectation(error.schema) : undefined;
  return wanted ? `expected ${wanted}` : error.message.charAt(0).toLowerCase() + error.message.slice(1);
}

/** "a number from 0 to 2 or null", "one of \"a\", \"b\"", ... or undefined when unsure. */
function expectation(schema: Schema): string | undefined {
  if (schema.hint) return schema.hint.replace(/^expected /, "");
  if (schema.anyOf) {
    const consts = schema.anyOf.map((s) => s.const).filter((c) => c !== undefined);
    if (consts.length === schema.anyOf.length) return `one of ${consts.map((c) => JSON.stringify(c)).join(", ")}`;
    const parts = schema.anyOf.map(expectation);
    return parts.every((p) => p !== undefined) ? parts.join(" or ") : undefined;
  }
  const range =
    schema.minimum !== undefined && schema.maximum !== undefined
      ? ` from ${schema.minimum} to ${schema.maximum}`
      : schema.minimum !== undefined
        ? ` of at least ${schema.minimum}`
        : "";
  switch (schema.type) {
    case "number":
      return `a number${range}`;
    case "integer":
      return `an integer${range}`;
    case "string":
      return "a string";
    case "boolean":
      return "true or false";
    case "array":
      return "an array";
    case "object":
      return "an object";
    case "null":
      return "null";
    default:
      return undefined;
  }
}

/** "/messages/0/role" → "messages[0].role" */
export function toParam(path: string): string {
  return path
    .split("/")
    .filter((p) => p !== "")
    .map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`))
    .join("");
}
