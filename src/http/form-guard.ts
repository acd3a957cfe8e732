/**
 * The three body types a web page may POST to any origin without a CORS preflight
 * (text/plain, application/x-www-form-urlencoded, multipart/form-data: the Fetch standard's
 * CORS-safelisted request header rule for Content-Type). A JSON route that took them would let a
 * foreign page make the proxy call Azure through a visitor's browser, unseen by the CORS check,
 * and with `--insecure-no-auth` that call needs no key at all. So they get a 415 before the body
 * is read; only routes that take a form (uploads) accept multipart/form-data.
 */
import { Failure } from "../lib/failure.ts";

const FORM_TYPES = new Set(["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]);

export function refuseFormBody(request: Request, multipartAllowed = false): void {
  if (request.method !== "POST") return;
  const header = request.headers.get("content-type");
  if (header === null) return;
  const semicolon = header.indexOf(";");
  const type = (semicolon === -1 ? header : header.slice(0, semicolon)).trim().toLowerCase();
  if (!FORM_TYPES.has(type) || (multipartAllowed && type === "multipart/form-data")) return;
  throw new Failure("unsupported_media_type", `This endpoint takes a JSON body: send it with 'Content-Type: application/json' (not '${type}').`, {
    code: "unsupported_media_type",
  });
}
