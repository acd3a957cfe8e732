/**
 * The one place a failure becomes an HTTP answer: status, OpenAI-shaped JSON body, and the
 * headers that tell a client when to retry. Registered first, so every module inherits it.
 */
import { Elysia, ValidationError } from "elysia";
import { Failure, type FailureKind, type OpenAIError } from "../lib/failure.ts";
import { contextOf } from "./request-context.ts";
import { validationFailure } from "./validation-message.ts";

const STATUS: Record<Exclude<FailureKind, "upstream_status">, number> = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  model_not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  quota_exceeded: 429,
  upstream_auth: 502,
  upstream_unreachable: 502,
  upstream_broke: 502,
  upstream_timeout: 504,
  overloaded: 503,
  client_closed: 499,
  state_unavailable: 503,
  internal: 500,
};

const TYPE: Record<Exclude<FailureKind, "upstream_status">, string> = {
  invalid_request: "invalid_request_error",
  unauthorized: "authentication_error",
  forbidden: "permission_error",
  not_found: "invalid_request_error",
  model_not_found: "invalid_request_error",
  method_not_allowed: "invalid_request_error",
  request_timeout: "invalid_request_error",
  payload_too_large: "invalid_request_error",
  unsupported_media_type: "invalid_request_error",
  rate_limited: "rate_limit_error",
  quota_exceeded: "insufficient_quota",
  upstream_auth: "upstream_error",
  upstream_unreachable: "upstream_error",
  upstream_broke: "upstream_error",
  upstream_timeout: "timeout_error",
  overloaded: "server_error",
  client_closed: "client_closed",
  state_unavailable: "server_error",
  internal: "server_error",
};

export function statusOf(failure: Failure): number {
  return failure.kind === "upstream_status" ? (failure.detail.status ?? 502) : STATUS[failure.kind];
}

export function failureResponse(failure: Failure): Response {
  const { detail } = failure;
  const error: OpenAIError & Record<string, unknown> = {
    ...detail.extra,
    message: failure.message,
    type: failure.kind === "upstream_status" ? (detail.type ?? "upstream_error") : TYPE[failure.kind],
    param: detail.param ?? null,
    code: detail.code ?? null,
  };
  const headers = new Headers({ "content-type": "application/json", ...detail.headers });
  return new Response(JSON.stringify({ error }), { status: statusOf(failure), headers });
}

/** Anything thrown anywhere → a Failure. Unknown errors become a 500 that says nothing internal. */
export function asFailure(error: unknown, request: Request): Failure {
  if (error instanceof Failure) return error;
  // Elysia wraps whatever a body parser throws in a ParseError; ours throws precise Failures.
  const cause = (error as { cause?: unknown })?.cause;
  if (cause instanceof Failure) return cause;
  if (error instanceof ValidationError) return validationFailure(error);
  const code = (error as { code?: unknown })?.code;
  if (code === "NOT_FOUND") {
    const { pathname } = contextOf(request).url;
    return new Failure("not_found", `Invalid URL (${request.method} ${pathname})`, { code: "unknown_url" });
  }
  if (code === "PARSE") return new Failure("invalid_request", "We could not parse the JSON body of your request.", { code: "invalid_json" });
  return new Failure("internal", "The proxy failed while handling this request.", { code: "internal_error" });
}

export function errorHandling(onUnexpected: (error: unknown, request: Request) => void) {
  return new Elysia({ name: "error-handling" }).onError({ as: "global" }, ({ error, request }) => {
    const failure = asFailure(error, request);
    if (failure.kind === "internal") onUnexpected(error, request);
    return failureResponse(failure);
  });
}
