/** The request's context + what the route learned → the plain ProxyCall the proxy core works on. */
import { Failure } from "../lib/failure.ts";
import { proxySrcGroup } from "../lib/headers.ts";
import type { ProxyCall, Shape } from "../proxy/call.ts";
import type { Operation } from "../proxy/operations.ts";
import type { BodyLimits } from "./body-read.ts";
import { spoolRawBody } from "./request-body.ts";
import { contextOf, type RequestContext } from "./request-context.ts";

type Body = Record<string, unknown>;

interface CallParts {
  readonly shape: Shape;
  readonly model?: string;
  readonly body?: Body;
  readonly params?: Record<string, string>;
  /** What the schema cannot say about the body (route-table.ts); throws a Failure. */
  readonly check?: (body: Body) => void;
}

export function callFrom(request: Request, operation: Operation, { shape, model, body = {}, params = {}, check }: CallParts): ProxyCall {
  // A form says `stream` as text; JSON as a boolean.
  const stream = body.stream === true || body.stream === "true";
  check?.(body);
  const context = contextOf(request);
  return {
    operation,
    model,
    bodyModel: typeof body.model === "string" ? body.model : undefined,
    body: context.takeBody(),
    streamOptions: isObject(body.stream_options) ? body.stream_options : null,
    stream,
    shape,
    params,
    query: "",
    ...fromRequest(request, context),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** What every call takes from the request itself, whatever its operation. */
function fromRequest(request: Request, context: RequestContext) {
  return {
    method: request.method,
    accept: request.headers.get("accept"),
    client: context.client,
    observer: context.record,
    group: proxySrcGroup(request.headers),
    requestId: context.id,
    signal: request.signal,
  };
}

/** A relayed v1 resource: the path after `/v1/` and the query go along; the body is spooled. */
export async function resourceCallFrom(request: Request, operation: Operation, shape: Shape, prefix: string, bodyLimits: BodyLimits): Promise<ProxyCall> {
  const context = contextOf(request);
  const { url } = context;
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
    ...fromRequest(request, context),
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
    throw new Failure("invalid_request", "The path may not contain an encoded '/', '\\' or '.' (%2F, %5C, %2E), nor '.' or '..' steps.", {
      code: "invalid_url",
    });
  }
}
