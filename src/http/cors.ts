/**
 * CORS for browser clients (chat UIs calling the proxy directly). Nothing is open unless
 * `cors.origins` lists origins. Preflights are answered without a key (browsers send none), and
 * the headers the OpenAI SDKs add (`x-stainless-*`) are allowed, or their preflight fails.
 */
import { cors } from "@elysiajs/cors";
import { Elysia } from "elysia";

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
const EXPOSED_HEADERS = ["x-request-id", "apim-request-id", "retry-after", "retry-after-ms", "x-should-retry", "x-ratelimit-remaining-requests", "x-ratelimit-remaining-tokens"];

export function corsFor(origins: readonly string[]) {
  if (origins.length === 0) return new Elysia({ name: "cors-off" });
  return cors({
    origin: [...origins],
    methods: ["GET", "POST", "DELETE", "OPTIONS"],
    allowedHeaders: ALLOWED_HEADERS,
    exposeHeaders: EXPOSED_HEADERS,
    credentials: false,
    maxAge: 600,
    preflight: true,
  });
}
