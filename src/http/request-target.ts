/**
 * The request's Host and target, checked once before anything routes on them. The router
 * (Elysia, `standardHostname: false`) takes the path as the raw text from the first "/" after
 * "http://" up to the first "?"; the key check and the relays read the parsed URL. Where the two
 * could disagree, a path that needs no key (/healthz) could route to one that spends Azure
 * money: measured on Deno, `Host: h?x` and the target `/v1/files/../../healthz` both reached
 * Azure with the proxy's key and no client key. So the Host header must be a host
 * (RFC 9110 §7.2: uri-host [":" port], no userinfo) and the parsed path must be the raw path,
 * byte for byte; anything else is a 400 before any module sees the request. Bun gives a request
 * with a Host it cannot use a URL without scheme or host, which `new URL` refuses: that is a 400
 * here too, not the runtime's HTML error page.
 */
import { Failure } from "../lib/failure.ts";

// reg-name (RFC 3986 §3.2.2: unreserved, pct-encoded, sub-delims) of at most 253 characters (a
// DNS name's limit), or an IP literal; the URL parser then rejects what is still not a host
const HOST = /^(?:\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9\-._~!$&'()*+,;=%]{1,253})(?::(\d{0,5}))?$/;

// nearly every request carries the same Host, and most the same target: each checked once, not
// per request. The URL is shared by the requests with that target; nothing writes to a request's URL.
let lastGoodHost: string | null = null;
let lastGoodRaw = "";
let lastGoodUrl: URL | undefined;

function badHost(): Failure {
  return new Failure("invalid_request", "The request's Host header is not a valid host[:port].", { param: "host", code: "invalid_host" });
}

function badTarget(): Failure {
  return new Failure(
    "invalid_request",
    "The request target is not a plain path: send it without dot segments, backslashes, '#', bytes a URL would rewrite or broken percent-encoding.",
    {
      code: "invalid_request_target",
    },
  );
}

// Character-level rules (RFC 9112 §3.2 / RFC 3986 §3.3: visible ASCII only, not `"<>\^`{|}`; a
// fragment `#` is never part of a request). Bun hands the target over parsed by the WHATWG rules,
// which keep `#…` in `request.url` where the router does not cut it (`/openai/deployments/gpt-4o#x/…`
// was routed with the deployment `gpt-4o#x`), and percent-encodes raw control and non-ASCII
// bytes, which would then decode into a deployment name. A control character (`%00`-`%1F`, `%7F`)
// is in no name, and a `%` not followed by two hex digits is no encoding.
const INVALID_IN_PATH = /[^\x21-\x7e]|[#"<>\\^`{|}]|%(?![0-9a-f]{2})|%[01][0-9a-f]|%7f/i;
const INVALID_IN_QUERY = /[^\x21-\x7e]|#/;

/** The 400 for a request target with a character it may not hold, or undefined when it is fine. */
export function requestTargetFailure(url: string): Failure | undefined {
  // the scheme and authority were built by the server from the Host header (checked apart)
  const pathStart = url.indexOf("/", url.indexOf("//") + 2);
  if (pathStart === -1) return undefined;
  const queryStart = url.indexOf("?", pathStart);
  const path = queryStart === -1 ? url.slice(pathStart) : url.slice(pathStart, queryStart);
  const found = INVALID_IN_PATH.exec(path) ?? (queryStart === -1 ? null : INVALID_IN_QUERY.exec(url.slice(queryStart)));
  if (found === null) return undefined;
  const text = found[0];
  const shown = text.length > 1 || text === "%" ? `'${text}'` : text === "#" ? "'#'" : `the byte 0x${text.charCodeAt(0).toString(16).padStart(2, "0")}`;
  return new Failure(
    "invalid_request",
    `The request URL contains ${shown}, which a request target may not hold (RFC 3986); percent-encode names, and send no fragment.`,
    {
      code: "invalid_url",
    },
  );
}

/** The request's URL, or the Failure that refuses it. */
export function checkedUrl(request: Request): URL | Failure {
  const host = request.headers.get("host");
  if (host !== null && host !== lastGoodHost) {
    const match = HOST.exec(host);
    if (!match || (match[1] !== undefined && match[1] !== "" && Number(match[1]) > 65535)) return badHost();
    lastGoodHost = host;
  }
  const raw = request.url;
  if (raw === lastGoodRaw) return lastGoodUrl!;
  const badCharacter = requestTargetFailure(raw);
  if (badCharacter) return badCharacter;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // Bun leaves a request without Host (HTTP/1.0) a bare path, which the router would misread
    if (host === null) return new Failure("invalid_request", "The request has no Host header.", { param: "host", code: "invalid_host" });
    return badHost();
  }
  if (url.username !== "" || url.password !== "") return badHost();
  // the router's path: what follows the authority, up to the query
  const start = raw.indexOf("/", raw.indexOf("//") + 2);
  const query = raw.indexOf("?");
  const path = start === -1 || (query !== -1 && query < start) ? "" : raw.slice(start, query === -1 ? undefined : query);
  if (path !== url.pathname) return badTarget();
  // the router decodes path parameters; one that does not decode became `null`, and a stored
  // response's id "null" went to Azure
  if (path.includes("%")) {
    try {
      decodeURIComponent(path);
    } catch {
      return badTarget();
    }
  }
  lastGoodRaw = raw;
  lastGoodUrl = url;
  return url;
}
