/**
 * Realtime's HTTP operations in both shapes: `POST /v1/realtime/client_secrets` and
 * `/openai/v1/realtime/client_secrets` (JSON), `POST /v1/realtime/calls` and
 * `/openai/v1/realtime/calls` (a WebRTC offer, `application/sdp`). The handlers hand plain values
 * to realtime/http-service.ts.
 */
import { Elysia } from "elysia";
import { concatBytes } from "../lib/bytes.ts";
import { Failure } from "../lib/failure.ts";
import type { RealtimeHttp } from "../realtime/http-service.ts";
import { clientOf } from "./client-auth.ts";
import { jsonBodyParser } from "./request-body.ts";
import { requestIdOf } from "./request-id.ts";
import { recordOf } from "./request-record.ts";
import { urlOf } from "./request-url.ts";

/** Client secrets are small JSON; an SDP offer is a few KB. */
const MAX_BYTES = 1024 * 1024;
const decoder = new TextDecoder();

async function sdpBody({ request }: { request: Request }): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body ?? []) {
    size += chunk.byteLength;
    if (size > MAX_BYTES) throw new Failure("payload_too_large", `A WebRTC offer is at most ${MAX_BYTES} bytes.`, { code: "payload_too_large" });
    chunks.push(chunk);
  }
  return decoder.decode(concatBytes(chunks));
}

function presentedKey(headers: Headers): string | null {
  const apiKey = headers.get("api-key");
  if (apiKey) return apiKey.trim();
  return /^Bearer\s+(.+)$/i.exec(headers.get("authorization")?.trim() ?? "")?.[1]?.trim() ?? null;
}

export function realtimeRoutes(realtime: RealtimeHttp) {
  const common = (request: Request) => ({ requestId: requestIdOf(request), signal: request.signal, record: recordOf(request), group: request.headers.get("proxy-src") ?? undefined });
  const clientSecret = ({ body, request }: { body: unknown; request: Request }) =>
    realtime.clientSecret({ ...common(request), body: body as Record<string, unknown>, client: clientOf(request) });
  const call = (prefix: string) => ({ body, request }: { body: unknown; request: Request }) => {
    const client = clientOf(request);
    return realtime.call({
      ...common(request),
      sdp: body as string,
      contentType: request.headers.get("content-type"),
      key: presentedKey(request.headers),
      client: client.name === "anonymous" && presentedKey(request.headers)?.startsWith("ek_") ? null : client,
      model: urlOf(request).searchParams.get("model"),
      prefix,
    });
  };
  return new Elysia({ name: "realtime-routes", normalize: false })
    .post("/v1/realtime/client_secrets", clientSecret, { parse: jsonBodyParser(MAX_BYTES) })
    .post("/openai/v1/realtime/client_secrets", clientSecret, { parse: jsonBodyParser(MAX_BYTES) })
    .post("/v1/realtime/calls", call("/v1"), { parse: sdpBody })
    .post("/openai/v1/realtime/calls", call("/openai/v1"), { parse: sdpBody });
}
