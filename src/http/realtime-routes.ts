/**
 * Realtime's HTTP operations in both shapes: `POST /v1/realtime/client_secrets` and
 * `/openai/v1/realtime/client_secrets` (JSON), `POST /v1/realtime/calls` and
 * `/openai/v1/realtime/calls` (a WebRTC offer, `application/sdp`). The handlers hand plain values
 * to realtime/http-service.ts.
 */
import { Elysia } from "elysia";
import { concatBytes } from "../lib/bytes.ts";
import { proxySrcGroup } from "../lib/headers.ts";
import type { RealtimeHttp } from "../realtime/http-service.ts";
import { readBody, type BodyLimits } from "./body-read.ts";
import { jsonRouteParser } from "./request-body.ts";
import { contextOf } from "./request-context.ts";

/** Client secrets are small JSON; an SDP offer is a few KB. */
const MAX_BYTES = 1024 * 1024;
const decoder = new TextDecoder();

/** An SDP offer, read under the limits every body has (size, silence, the shared budget). */
function sdpBody(limits: BodyLimits) {
  return async ({ request }: { request: Request }): Promise<string> => {
    const chunks: Uint8Array[] = [];
    const claim = limits.budget.claim();
    try {
      await readBody(request, limits, claim, (chunk) => {
        chunks.push(chunk);
      });
    } finally {
      // the offer is a string from here on: it holds no spool
      claim.release();
    }
    return decoder.decode(concatBytes(chunks));
  };
}

function presentedKey(headers: Headers): string | null {
  const apiKey = headers.get("api-key");
  if (apiKey) return apiKey.trim();
  return /^Bearer\s+(.+)$/i.exec(headers.get("authorization")?.trim() ?? "")?.[1]?.trim() ?? null;
}

export function realtimeRoutes(realtime: RealtimeHttp, bodyLimits: BodyLimits) {
  const limits: BodyLimits = { ...bodyLimits, maxBytes: Math.min(MAX_BYTES, bodyLimits.maxBytes) };
  const secretBody = jsonRouteParser(limits);
  const sdp = sdpBody(limits);
  const common = (request: Request) => {
    const context = contextOf(request);
    return { requestId: context.id, signal: request.signal, observer: context.record, group: proxySrcGroup(request.headers) };
  };
  const clientSecret = ({ body, request }: { body: unknown; request: Request }) =>
    realtime.clientSecret({ ...common(request), body: body as Record<string, unknown>, client: contextOf(request).client });
  const call =
    (prefix: string) =>
    ({ body, request }: { body: unknown; request: Request }) => {
      const { client, url } = contextOf(request);
      return realtime.call({
        ...common(request),
        sdp: body as string,
        contentType: request.headers.get("content-type"),
        key: presentedKey(request.headers),
        client: client.name === "anonymous" && presentedKey(request.headers)?.startsWith("ek_") ? null : client,
        model: url.searchParams.get("model"),
        prefix,
      });
    };
  return new Elysia({ name: "realtime-routes", normalize: false })
    .post("/v1/realtime/client_secrets", clientSecret, { parse: secretBody })
    .post("/openai/v1/realtime/client_secrets", clientSecret, { parse: secretBody })
    .post("/v1/realtime/calls", call("/v1"), { parse: sdp })
    .post("/openai/v1/realtime/calls", call("/openai/v1"), { parse: sdp });
}
