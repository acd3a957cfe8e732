/**
 * CORS for browser clients (chat UIs calling the proxy directly). Nothing is open unless
 * `cors.origins` lists origins. Preflights are answered without a key (browsers send none), and
 * the headers the OpenAI SDKs add (`x-stainless-*`) are allowed, or their preflight fails.
 * Every OPTIONS request is answered here, before auth and routing, and its body is never read:
 * a preflight from a listed origin gets 204, anything else a 4xx. No OPTIONS reaches a route
 * (the relays once took any method, so an OPTIONS without a key went to Azure with ours), and
 * @elysiajs/cors, which answers 204 to every OPTIONS whatever its origin, keeps only the
 * headers of ordinary responses.
 */
import { cors } from "@elysiajs/cors";
import { Elysia } from "elysia";
import { Failure } from "../lib/failure.ts";

const ALLOWED_HEADERS = [
  "authorization",
  "api-key",
  "content-type",
  "x-request-id",
  "proxy-src",
  "openai-organization",
  "openai-project",
  "openai-beta",
  "x-stainless-arch",
  "x-stainless-lang",
  "x-stainless-os",
  "x-stainless-package-version",
  "x-stainless-retry-count",
  "x-stainless-runtime",
  "x-stainless-runtime-version",
  "x-stainless-timeout",
  "x-stainless-helper-method",
];
const EXPOSED_HEADERS = [
  "x-request-id",
  "apim-request-id",
  "retry-after",
  "retry-after-ms",
  "x-should-retry",
  "x-ratelimit-remaining-requests",
  "x-ratelimit-remaining-tokens",
];

const METHODS = ["GET", "POST", "DELETE"];

function preflightAnswer(origins: ReadonlySet<string>, request: Request): Response {
  const origin = request.headers.get("origin");
  const method = request.headers.get("access-control-request-method");
  if (origin === null || method === null) {
    throw new Failure("method_not_allowed", "OPTIONS is answered only as a CORS preflight (with Origin and Access-Control-Request-Method).", {
      code: "method_not_allowed",
      headers: { allow: METHODS.join(", ") },
    });
  }
  if (!origins.has(origin) && !origins.has("*")) {
    throw new Failure("forbidden", "This origin may not call the proxy from a browser (cors.origins).", { code: "cors_origin_not_allowed" });
  }
  return new Response(null, {
    status: 204,
    headers: {
      "access-control-allow-origin": origins.has("*") ? "*" : origin,
      "access-control-allow-methods": METHODS.join(", "),
      "access-control-allow-headers": ALLOWED_HEADERS.join(", "),
      "access-control-expose-headers": EXPOSED_HEADERS.join(", "),
      "access-control-max-age": "600",
      vary: "Origin",
    },
  });
}

/**
 * A browser says where a request comes from (Fetch Metadata, `Sec-Fetch-Site`); a page on another
 * site whose origin is not listed gets a 403 before anything runs. The 415 for form bodies stops
 * its POSTs; this stops the rest: an `<img src>` GET of a file's content, a form posting a file
 * upload, a plain cross-origin fetch whose answer the browser would hide but whose call would be
 * made, a Blob POSTed with no Content-Type at all. A browser without Fetch Metadata (Safari
 * before 16.4) still sends the page's `Origin` with every POST: one that is neither listed nor
 * the proxy's own host is refused too. Only a request without a preflight can come from such an
 * origin (any other fails its preflight), so nothing that works is lost. Clients that are not
 * browsers send neither header.
 */
function refuseCrossSite(origins: ReadonlySet<string>, request: Request): void {
  const site = request.headers.get("sec-fetch-site");
  if (site === "same-origin" || site === "none") return;
  const origin = request.headers.get("origin");
  if (origin === null && site === null) return;
  if (origin !== null && (origins.has(origin) || origins.has("*"))) return;
  if (site === null && isOwnHost(origin!, request.headers.get("host"))) return;
  if (site !== null && site !== "cross-site" && site !== "same-site") return;
  throw new Failure("forbidden", "A page on another site may not call the proxy unless its origin is in cors.origins.", { code: "cross_site_request" });
}

/** The page is one the proxy served itself (its origin names the host the request went to). */
function isOwnHost(origin: string, host: string | null): boolean {
  if (host === null) return false;
  const scheme = origin.indexOf("://");
  return scheme !== -1 && origin.slice(scheme + 3).toLowerCase() === host.toLowerCase();
}

export function corsFor(origins: readonly string[]) {
  const listed = new Set(origins);
  const preflight = new Elysia({ name: "cors-preflight" }).onRequest(({ request }) => {
    if (request.method === "OPTIONS") return preflightAnswer(listed, request);
    refuseCrossSite(listed, request);
  });
  if (origins.length === 0) return preflight;
  return preflight.use(
    cors({
      origin: [...origins],
      methods: METHODS,
      allowedHeaders: ALLOWED_HEADERS,
      exposeHeaders: EXPOSED_HEADERS,
      credentials: false,
      maxAge: 600,
      preflight: false,
    }),
  );
}
