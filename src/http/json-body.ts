/**
 * Reads a JSON request body for a route: bounded by the size limit while reading (a
 * Content-Length over it is refused before reading anything), parsed once, and kept as the
 * exact text the client sent, because that text, not a re-serialisation, is what goes upstream.
 */
import { concatBytes } from "../lib/bytes.ts";
import { Failure } from "../lib/failure.ts";

const rawBodies = new WeakMap<Request, string>();

/** The body text as the client sent it (after `jsonBodyParser` ran for this request). */
export function rawBodyOf(request: Request): string {
  const text = rawBodies.get(request);
  if (text === undefined) throw new Failure("internal", "request body was not read");
  return text;
}

function tooLarge(limit: number): Failure {
  return new Failure("payload_too_large", `The request body is larger than this proxy accepts (${limit} bytes).`, {
    code: "request_too_large",
  });
}

export function jsonBodyParser(maxBytes: number) {
  return async ({ request }: { request: Request }): Promise<unknown> => {
    const declared = Number(request.headers.get("content-length") ?? "NaN");
    if (declared > maxBytes) throw tooLarge(maxBytes);
    const text = await readText(request, maxBytes);
    if (text.trim() === "") {
      throw new Failure("invalid_request", "The request body is empty; send a JSON object.", { code: "invalid_json" });
    }
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
    rawBodies.set(request, text);
    return parsed;
  };
}

async function readText(request: Request, maxBytes: number): Promise<string> {
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const all = concatBytes(chunks);
  // fatal: a body that is not UTF-8 is a client error, not something to forward mangled
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(all);
  } catch {
    throw new Failure("invalid_request", "The request body is not valid UTF-8.", { code: "invalid_encoding" });
  }
}
