/** Request + what the route learned → the plain ProxyCall the proxy core works on. */
import { Failure } from "../lib/failure.ts";
import type { ProxyCall, Shape } from "../proxy/call.ts";
import { IMAGE_EDITS, type Operation } from "../proxy/operations.ts";
import { clientOf } from "./client-auth.ts";
import { recordOf } from "./request-record.ts";
import { requestIdOf } from "./request-id.ts";
import { urlOf } from "./request-url.ts";
import type { BodyLimits } from "./body-read.ts";
import { spoolRawBody, takeCallBody } from "./request-body.ts";

type Body = Record<string, unknown>;

interface CallParts {
  readonly shape: Shape;
  readonly model?: string;
  readonly body?: Body;
  readonly params?: Record<string, string>;
}

export function callFrom(request: Request, operation: Operation, { shape, model, body = {}, params = {} }: CallParts): ProxyCall {
  // A form says `stream` as text; JSON as a boolean.
  const stream = body.stream === true || body.stream === "true";
  if (operation === IMAGE_EDITS && body.image === undefined && body["image[]"] === undefined) {
    throw new Failure("invalid_request", "Missing required parameter: 'image'.", { param: "image", code: "missing_required_parameter" });
  }
  return {
    operation,
    model,
    bodyModel: typeof body.model === "string" ? body.model : undefined,
    body: takeCallBody(request),
    hasStreamOptions: body.stream_options !== undefined && body.stream_options !== null,
    stream,
    shape,
    params,
    query: "",
    ...fromRequest(request),
  };
}

/** What every call takes from the request itself, whatever its operation. */
function fromRequest(request: Request) {
  return {
    method: request.method,
    accept: request.headers.get("accept"),
    client: clientOf(request),
    record: recordOf(request),
    group: request.headers.get("proxy-src")?.trim() || undefined,
    requestId: requestIdOf(request),
    signal: request.signal,
  };
}

/** A relayed v1 resource: the path after `/v1/` and the query go along; the body is spooled. */
export async function resourceCallFrom(request: Request, operation: Operation, shape: Shape, prefix: string, bodyLimits: BodyLimits): Promise<ProxyCall> {
  const url = urlOf(request);
  return {
    operation,
    model: undefined,
    bodyModel: undefined,
    body: await spoolRawBody(request, bodyLimits),
    hasStreamOptions: false,
    stream: false,
    shape,
    params: { "*": url.pathname.slice(prefix.length + 1) },
    query: url.search,
    ...fromRequest(request),
  };
}
