/**
 * Client keys. Checked in `onRequest`, before the body is read: a caller without a key gets a
 * 401 without making us read (or validate) a 25 MB upload. Clients send the key the OpenAI way
 * (`Authorization: Bearer K`) or the Azure way (`api-key: K`); neither header goes upstream.
 * Keys are compared as SHA-256 digests in constant time, so a config may hold `key_sha256`
 * instead of the key (proxy/clients.ts, `clientLookup`); the key's name, never the key, is what
 * logs see.
 */
import { Elysia } from "elysia";
import type { ClientKeyConfig } from "../config/schema.ts";
import { Failure } from "../lib/failure.ts";
import { clientLookup } from "../proxy/clients.ts";
import { contextOf } from "./request-context.ts";

/** The WebRTC call routes (http/realtime-routes.ts), the only ones an ephemeral key may reach. */
const EPHEMERAL_KEY_ROUTES = new Set(["/v1/realtime/calls", "/openai/v1/realtime/calls"]);

/** Paths that spend upstream money or show what was spent, and so need a key. Ops endpoints stay open. */
function isProtected(pathname: string): boolean {
  return pathname.startsWith("/v1/") || pathname.startsWith("/openai/") || pathname.startsWith("/admin/");
}

function presentedKey(headers: Headers): string | null {
  const apiKey = headers.get("api-key");
  if (apiKey) return apiKey.trim();
  const auth = headers.get("authorization");
  if (!auth) return null;
  const match = /^Bearer\s+(.+)$/i.exec(auth.trim());
  return match ? match[1]!.trim() : null;
}

export function clientAuth(keys: readonly ClientKeyConfig[], open: boolean) {
  const clientOf = clientLookup(keys);
  return new Elysia({ name: "client-auth" }).onRequest(({ request }) => {
    // every OPTIONS is answered by cors.ts before this runs, and never reaches a route
    if (open || request.method === "OPTIONS") return;
    const key = presentedKey(request.headers);
    const context = contextOf(request);
    const path = context.url.pathname;
    // ops endpoints are open, but a key they are given is still checked (metrics.require_key)
    if (!isProtected(path) && key === null) return;
    if (key === null) {
      throw new Failure("unauthorized", "You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY' (or the 'api-key' header).", {
        code: "missing_api_key",
      });
    }
    const client = clientOf(key);
    if (client === undefined) {
      // a WebRTC offer may carry an ephemeral key instead; the calls route checks it (realtime/http-service.ts)
      // exactly those two routes: any other path (a pass-through one ending the same way) would reach Azure keyless
      if (key.startsWith("ek_") && request.method === "POST" && EPHEMERAL_KEY_ROUTES.has(path)) return;
      throw new Failure("unauthorized", "Incorrect API key provided.", { code: "invalid_api_key" });
    }
    context.client = client;
  });
}
