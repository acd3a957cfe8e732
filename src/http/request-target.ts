/**
 * The request target must be one the URL parser and the router read the same way, and whose
 * names mean what they show. RFC 9112 §3.2 / RFC 3986 §3.3 allow only visible ASCII (and not
 * `"<>\^`{|}`), and a fragment (`#`) is never part of a request. Bun hands the target over
 * parsed by the WHATWG rules, which keep `#…` in `request.url` where the router does not cut it:
 * `/openai/deployments/gpt-4o#x/…` was routed with the deployment `gpt-4o#x`. Bun also
 * percent-encodes raw control and non-ASCII bytes, which then decode into a deployment name; a
 * control character (`%00`-`%1F`, `%7F`) is in no name, and a `%` not followed by two hex digits
 * is no encoding. Each is refused, never guessed at. One regex test per request.
 */
import { Failure } from "../lib/failure.ts";

const INVALID_IN_PATH = /[^\x21-\x7e]|[#"<>\\^`{|}]|%(?![0-9a-f]{2})|%[01][0-9a-f]|%7f/i;
const INVALID_IN_QUERY = /[^\x21-\x7e]|#/;

/** The 400 for a request target with a character it may not hold, or undefined when it is fine. */
export function requestTargetFailure(url: string): Failure | undefined {
  // the scheme and authority were built by the server from the Host header (checked elsewhere)
  const pathStart = url.indexOf("/", url.indexOf("//") + 2);
  if (pathStart === -1) return undefined;
  const queryStart = url.indexOf("?", pathStart);
  const path = queryStart === -1 ? url.slice(pathStart) : url.slice(pathStart, queryStart);
  const found = INVALID_IN_PATH.exec(path) ?? (queryStart === -1 ? null : INVALID_IN_QUERY.exec(url.slice(queryStart)));
  if (found === null) return undefined;
  const text = found[0];
  const shown = text.length > 1 || text === "%" ? `'${text}'` : text === "#" ? "'#'" : `the byte 0x${text.charCodeAt(0).toString(16).padStart(2, "0")}`;
  return new Failure("invalid_request", `The request URL contains ${shown}, which a request target may not hold (RFC 3986); percent-encode names, and send no fragment.`, {
    code: "invalid_url",
  });
}
