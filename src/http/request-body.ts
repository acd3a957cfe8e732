/**
 * Reading request bodies, bounded by the size limit while reading (a Content-Length over it is
 * refused before reading anything):
 * - JSON is parsed once and kept as the exact text the client sent, because that text, not a
 *   re-serialisation, is what goes upstream;
 * - multipart and raw uploads go to a Spool (memory, then an unlinked temp file), scanned on
 *   the way for the form's text fields, so a 25 MB audio file is never held in memory.
 * The route's handler takes the body with `takeCallBody`; a body no handler took (the request
 * failed validation) is released by `releaseUntaken`.
 */
import { Failure } from "../lib/failure.ts";
import { boundaryOf, MultipartError, MultipartScanner, type PartInfo } from "../lib/multipart-scanner.ts";
import { Spool } from "../lib/spool.ts";
import { concatBytes } from "../lib/bytes.ts";
import { duplicateTopLevelKey } from "../lib/json-top-level.ts";
import { disposeBody, type CallBody } from "../proxy/call.ts";

const bodies = new WeakMap<Request, CallBody>();
/** A text field bigger than this is not a parameter anyone sends; it is refused, not truncated. */
const MAX_TEXT_FIELD = 1024 * 1024;

export function takeCallBody(request: Request): CallBody {
  const body = bodies.get(request);
  bodies.delete(request);
  return body ?? { kind: "none" };
}

export function releaseUntaken(request: Request): void {
  const body = bodies.get(request);
  if (body) {
    bodies.delete(request);
    disposeBody(body);
  }
}

function tooLarge(limit: number): Failure {
  return new Failure("payload_too_large", `The request body is larger than this proxy accepts (${limit} bytes).`, { code: "request_too_large" });
}

/**
 * Every chunk of the body to `sink`, failing with 413 past `maxBytes`. `whole`: a body of
 * declared length is read in one piece (JSON, which is parsed whole anyway); uploads stream
 * chunk by chunk into their spool, never held whole.
 */
async function readLimited(request: Request, maxBytes: number, sink: (chunk: Uint8Array) => void | Promise<void>, whole = false): Promise<void> {
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (declared > maxBytes) throw tooLarge(maxBytes);
  if (!request.body) return;
  if (whole && declared >= 0) {
    // one read: the reader loop allocated 256 KiB and 64 KiB buffers per request, a GC every
    // ~52 requests under load (bench/profile.ts); the server holds the body to its declared
    // length, never more
    await sink(new Uint8Array(await request.arrayBuffer()));
    return;
  }
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    size += value.byteLength;
    if (size > maxBytes) {
      reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    await sink(value);
  }
}

export function jsonBodyParser(maxBytes: number) {
  return async ({ request }: { request: Request }): Promise<unknown> => {
    const chunks: Uint8Array[] = [];
    await readLimited(request, maxBytes, (chunk) => void chunks.push(chunk), true);
    let text: string;
    try {
      // fatal: a body that is not UTF-8 is a client error, not something to forward mangled
      text = new TextDecoder("utf-8", { fatal: true }).decode(concatBytes(chunks));
    } catch {
      throw new Failure("invalid_request", "The request body is not valid UTF-8.", { code: "invalid_encoding" });
    }
    if (text.trim() === "") throw new Failure("invalid_request", "The request body is empty; send a JSON object.", { code: "invalid_json" });
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
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
      throw new Failure("invalid_request", `The JSON body has the parameter '${duplicate}' more than once; send each parameter once.`, { param: duplicate, code: "duplicate_parameter" });
    }
    bodies.set(request, { kind: "json", text });
    return parsed;
  };
}

/** What a form looks like to its TypeBox schema: text fields as strings, files as their facts. */
export interface FilePartInfo {
  filename: string;
  size: number;
  content_type: string | null;
}
export type FormFields = Record<string, string | FilePartInfo | Array<string | FilePartInfo>>;

export function multipartBodyParser(maxBytes: number) {
  return async ({ request }: { request: Request }): Promise<FormFields> => {
    const contentType = request.headers.get("content-type");
    const boundary = boundaryOf(contentType);
    if (boundary === null) {
      throw new Failure("invalid_request", "This endpoint takes multipart/form-data (with a boundary), as the OpenAI clients send it.", {
        code: "invalid_content_type",
      });
    }
    const spool = new Spool();
    const scanner = new MultipartScanner(boundary);
    try {
      await readLimited(request, maxBytes, async (chunk) => {
        scanner.push(chunk);
        await spool.append(chunk);
      });
      if (!scanner.complete) throw new MultipartError("the form ends before its closing boundary");
      const fields: FormFields = {};
      let modelRange: readonly [number, number] | null = null;
      for (const part of scanner.parts) {
        // a form parser that matches names case-insensitively (ASP.NET Core's) reads it as model
        if (part.name !== "model" && part.name.toLowerCase() === "model") {
          throw new Failure("invalid_request", `The form field '${part.name}' may be read as 'model' upstream; send the model once, as 'model'.`, { param: part.name, code: "duplicate_parameter" });
        }
        const value = await fieldValue(spool, part);
        const existing = fields[part.name];
        fields[part.name] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
        if (part.name === "model" && part.filename === null) modelRange = [part.start, part.end];
      }
      bodies.set(request, { kind: "multipart", spool, contentType: contentType!, modelRange, partsEnd: scanner.parts.at(-1)?.end ?? 0 });
      return fields;
    } catch (error) {
      await spool.dispose();
      if (error instanceof MultipartError) throw new Failure("invalid_request", `The multipart body is malformed: ${error.message}.`, { code: "invalid_multipart" });
      throw error;
    }
  };
}

async function fieldValue(spool: Spool, part: PartInfo): Promise<string | FilePartInfo> {
  const size = part.end - part.start;
  if (part.filename !== null) return { filename: part.filename, size, content_type: part.contentType };
  if (size > MAX_TEXT_FIELD) {
    throw new Failure("invalid_request", `The form field '${part.name}' is larger than ${MAX_TEXT_FIELD} bytes; send files with a filename.`, { param: part.name, code: "invalid_value" });
  }
  return new TextDecoder().decode(await spool.slice(part.start, part.end));
}

/** Any body, kept as it came, for the relayed v1 resources (file uploads, batch bodies). */
export async function spoolRawBody(request: Request, maxBytes: number): Promise<CallBody> {
  if (request.method === "GET" || request.method === "HEAD" || request.body === null) return { kind: "none" };
  const spool = new Spool();
  try {
    await readLimited(request, maxBytes, (chunk) => spool.append(chunk));
  } catch (error) {
    await spool.dispose();
    throw error;
  }
  return { kind: "raw", spool, contentType: request.headers.get("content-type") };
}
