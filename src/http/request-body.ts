/**
 * Reading request bodies, under the limits of body-read.ts (size, silence, the bytes all bodies
 * hold together):
 * - JSON is parsed once and kept as the exact text the client sent, because that text, not a
 *   re-serialisation, is what goes upstream;
 * - multipart and raw uploads go to a Spool (memory, then an unlinked temp file), scanned on
 *   the way for the form's text fields, so a 25 MB audio file is never held in memory.
 * The body is kept on the request's context (request-context.ts): the route's handler takes it
 * for the call; a body no handler took (the request failed validation) is released when the
 * app answers.
 */
import type { Claim } from "../lib/byte-budget.ts";
import { Failure } from "../lib/failure.ts";
import { boundaryOf, MultipartError, MultipartScanner, TextFieldTooLargeError, TooManyPartsError, type PartInfo } from "../lib/multipart-scanner.ts";
import { Spool } from "../lib/spool.ts";
import { concatBytes } from "../lib/bytes.ts";
import { duplicateTopLevelKey } from "../lib/json-top-level.ts";
import type { CallBody } from "../proxy/call.ts";
import { readBody, type BodyLimits } from "./body-read.ts";
import { refuseFormBody } from "./form-guard.ts";
import { contextOf } from "./request-context.ts";

/** A text field bigger than this is not a parameter anyone sends; it is refused, not truncated. */
const MAX_TEXT_FIELD = 1024 * 1024;
const utf8 = new TextDecoder();
// fatal: a body that is not UTF-8 is a client error, not something to forward mangled; one
// decoder for all bodies (a whole decode keeps no state between calls)
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** A JSON body's claim on limits.max_spool_bytes, released by the context when the app answers. */
function claimFor(request: Request, limits: BodyLimits): Claim {
  const claim = limits.budget.claim();
  contextOf(request).claim = claim;
  return claim;
}

export function jsonBodyParser(limits: BodyLimits) {
  return async (request: Request): Promise<unknown> => {
    const chunks: Uint8Array[] = [];
    const claim = claimFor(request, limits);
    await readBody(request, limits, claim, (chunk) => void chunks.push(chunk), true);
    let text: string;
    try {
      text = strictUtf8.decode(concatBytes(chunks));
    } catch {
      throw new Failure("invalid_request", "The request body is not valid UTF-8.", { code: "invalid_encoding" });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // told apart only once parsing failed: a blank body is no JSON either
      if (text.trim() === "") throw new Failure("invalid_request", "The request body is empty; send a JSON object.", { code: "invalid_json" });
      throw new Failure(
        "invalid_request",
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't sending valid JSON; check quoting and commas.)",
        { code: "invalid_json" },
      );
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new Failure("invalid_request", "The request body must be a JSON object.", { code: "invalid_type" });
    }
    // what is validated (the last value) must be what Azure reads, which may be the first
    const duplicate = duplicateTopLevelKey(text);
    if (duplicate !== undefined) {
      throw new Failure("invalid_request", `The JSON body has the parameter '${duplicate}' more than once; send each parameter once.`, {
        param: duplicate,
        code: "duplicate_parameter",
      });
    }
    contextOf(request).keepBody({ kind: "json", text });
    return parsed;
  };
}

/** A JSON route's parser: a page's form or text/plain post never reaches Azure (form-guard.ts). */
export function jsonRouteParser(limits: BodyLimits) {
  const json = jsonBodyParser(limits);
  // destructured, never passed on whole: Elysia reads a hook's parameters to decide what to
  // build per request, and a whole context makes it parse cookies, query and headers for all
  return ({ request }: { request: Request }) => {
    refuseFormBody(request);
    return json(request);
  };
}

/** What a form looks like to its TypeBox schema: text fields as strings, files as their facts. */
export interface FilePartInfo {
  filename: string;
  size: number;
  content_type: string | null;
}
export type FormFields = Record<string, string | FilePartInfo | Array<string | FilePartInfo>>;

export function multipartBodyParser(limits: BodyLimits) {
  return async ({ request }: { request: Request }): Promise<FormFields> => {
    const contentType = request.headers.get("content-type");
    const boundary = boundaryOf(contentType);
    if (boundary === null) {
      throw new Failure("invalid_request", "This endpoint takes multipart/form-data (with a boundary), as the OpenAI clients send it.", {
        code: "invalid_content_type",
      });
    }
    const spool = new Spool(limits.budget.claim());
    // fields as their parts end, read by read: a form of many parts never blocks the process at its end
    const form = new FormFieldsBuilder();
    const scanner = new MultipartScanner(boundary, { maxParts: limits.maxParts, maxTextBytes: MAX_TEXT_FIELD, onPart: (part) => form.add(part) });
    try {
      await readBody(request, limits, spool.claim, async (chunk) => {
        scanner.push(chunk);
        await spool.append(chunk);
      });
      if (!scanner.complete) throw new MultipartError("the form ends before its closing boundary");
      contextOf(request).keepBody({ kind: "multipart", spool, contentType: contentType!, modelRange: form.modelRange, partsEnd: form.partsEnd });
      return form.fields;
    } catch (error) {
      await spool.dispose();
      throw formFailure(error);
    }
  };
}

function formFailure(error: unknown): unknown {
  if (error instanceof TooManyPartsError) {
    return new Failure("invalid_request", `The form has more than ${error.maxParts} parts (limits.max_form_parts).`, { code: "too_many_parts" });
  }
  if (error instanceof TextFieldTooLargeError) {
    return new Failure("invalid_request", `The form field '${error.field}' is larger than ${error.maxBytes} bytes; send files with a filename.`, {
      param: error.field,
      code: "invalid_value",
    });
  }
  if (error instanceof MultipartError)
    return new Failure("invalid_request", `The multipart body is malformed: ${error.message}.`, { code: "invalid_multipart" });
  return error;
}

/** The parts as the route's schema sees them; a repeated name collects into one array, appended in place. */
class FormFieldsBuilder {
  readonly fields: FormFields = {};
  modelRange: readonly [number, number] | null = null;
  /** Where the last part's content ends: a `model` part is added there when the form has none. */
  partsEnd = 0;

  add(part: PartInfo): void {
    const { fields } = this;
    // a form parser that matches names case-insensitively (ASP.NET Core's) reads it as model
    if (part.name !== "model" && part.name.toLowerCase() === "model") {
      throw new Failure("invalid_request", `The form field '${part.name}' may be read as 'model' upstream; send the model once, as 'model'.`, {
        param: part.name,
        code: "duplicate_parameter",
      });
    }
    this.partsEnd = part.end;
    const value: string | FilePartInfo =
      part.text === null ? { filename: part.filename!, size: part.end - part.start, content_type: part.contentType } : utf8.decode(part.text);
    const existing = fields[part.name];
    if (existing === undefined) fields[part.name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else fields[part.name] = [existing, value];
    if (part.name === "model" && part.filename === null) this.modelRange = [part.start, part.end];
  }
}

/** Any body, kept as it came, for the relayed v1 resources (file uploads, batch bodies). */
export async function spoolRawBody(request: Request, limits: BodyLimits): Promise<CallBody> {
  if (request.method === "GET" || request.method === "HEAD" || request.body === null) return { kind: "none" };
  const spool = new Spool(limits.budget.claim());
  try {
    await readBody(request, limits, spool.claim, (chunk) => spool.append(chunk));
  } catch (error) {
    await spool.dispose();
    throw error;
  }
  return { kind: "raw", spool, contentType: request.headers.get("content-type") };
}
