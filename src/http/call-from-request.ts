/** Request + what the route learned → the plain ProxyCall the proxy core works on. */
import type { ProxyCall } from "../proxy/call.ts";
import type { Operation } from "../proxy/operation.ts";
import { rawBodyOf } from "./json-body.ts";
import { requestIdOf } from "./request-id.ts";

export function callFrom(request: Request, operation: Operation, model: string, body: { model?: unknown; stream?: boolean | null }): ProxyCall {
  return {
    operation,
    model,
    bodyModel: typeof body.model === "string" ? body.model : undefined,
    bodyText: rawBodyOf(request),
    stream: body.stream === true,
    requestId: requestIdOf(request),
    signal: request.signal,
  };
}
