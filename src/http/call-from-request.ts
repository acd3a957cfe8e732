/** Request + what the route learned → the plain ProxyCall the proxy core works on. */
import { Failure } from "../lib/failure.ts";
import type { ProxyCall, Shape } from "../proxy/call.ts";
import { CHAT_COMPLETIONS, IMAGE_EDITS, type Operation } from "../proxy/operations.ts";
import { checkChatMessages } from "./models/chat-messages.ts";
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
  if (operation === CHAT_COMPLETIONS) checkChatMessages(body.messages as Parameters<typeof checkChatMessages>[0]);
  return {
    operation,
    model,
    bodyModel: typeof body.model === "string" ? body.model : undefined,
    body: takeCallBody(request),
    streamOptions: isObject(body.stream_options) ? body.stream_options : null,
    stream,
    shape,
    params,
    query: "",
    ...fromRequest(request),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
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
  refuseEncodedSteps(request.url, url.pathname);
  return {
    operation,
    model: undefined,
    bodyModel: undefined,
    body: await spoolRawBody(request, bodyLimits),
    streamOptions: null,
    stream: false,
    shape,
    params: { "*": url.pathname.slice(prefix.length + 1) },
    query: url.search,
    ...fromRequest(request),
  };
}

// %2F and %5C are a "/" or a backslash to a server that decodes before routing, and %2E%2E a ".." that
// URL parsers resolve: either way the sub-path would name another upstream path than the one
// the relay checked (/v1/files/%2e%2e/chat/completions would be /openai/v1/chat/completions).
const ENCODED_STEP = /%2f|%5c|%2e/i;

function refuseEncodedSteps(rawUrl: string, pathname: string): void {
  const query = rawUrl.indexOf("?");
  const rawPath = query === -1 ? rawUrl : rawUrl.slice(0, query);
  if (ENCODED_STEP.test(rawPath) || !rawPath.endsWith(pathname)) {
    throw new Failure("invalid_request", "The path may not contain an encoded '/', '\\' or '.' (%2F, %5C, %2E), nor '.' or '..' steps.", { code: "invalid_url" });
  }
}
