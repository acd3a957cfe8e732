/**
 * Every way a request can fail, as data. Modules throw a `Failure`; exactly one function
 * (`http/errors.ts`) turns it into a status and an OpenAI-shaped body, so no status code is
 * decided anywhere else.
 */
export type FailureKind =
  | "invalid_request" // 400: the client's body or query is wrong
  | "unauthorized" // 401: missing or wrong client key
  | "forbidden" // 403: key valid, but not for this
  | "not_found" // 404: no such route
  | "model_not_found" // 404: no upstream serves the model
  | "method_not_allowed" // 405
  | "request_timeout" // 408: the client's body stopped arriving
  | "payload_too_large" // 413
  | "unsupported_media_type" // 415: a form or text body where JSON is expected
  | "rate_limited" // 429: the client's key is over its own limit
  | "quota_exceeded" // 429 insufficient_quota: the client's key is past a budget until it resets
  | "upstream_status" // Azure answered with an error status: keep its status
  | "upstream_auth" // Azure rejected *our* credential: the operator's problem, not the client's
  | "upstream_unreachable" // connect / DNS / TLS failure
  | "upstream_broke" // the upstream answer was cut or unreadable
  | "upstream_timeout"
  | "overloaded" // 503: the proxy itself is at a bound (limits.max_spool_bytes); retry later
  | "client_closed" // the client went away before the answer (logged as 499, never sent)
  | "state_unavailable" // 503: the shared state (Redis) is needed and does not answer; retry
  | "internal";

/** OpenAI's error object: what every client SDK parses. */
export interface OpenAIError {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

export interface FailureDetail {
  param?: string | null;
  code?: string | null;
  /** Only for `upstream_status`: Azure's status, kept for the client. */
  status?: number;
  /** Response headers worth keeping (retry-after, retry-after-ms, x-ratelimit-*). */
  headers?: Record<string, string>;
  /** Only for `upstream_status`: OpenAI type normalised from Azure's body. */
  type?: string;
  /** Azure's own extra error fields (innererror, content_filters), kept beside OpenAI's four. */
  extra?: Record<string, unknown>;
  /** Only for upstream failures without a status: where the call broke (proxy/failure-table.ts reads it). */
  origin?: UpstreamOrigin;
}

/** Which step of an upstream call failed, when Azure sent no status to say it. */
export type UpstreamOrigin = "connect" | "connect_timeout" | "first_byte" | "idle" | "token" | "refused";

export class Failure extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly detail: FailureDetail = {},
  ) {
    super(message);
    this.name = "Failure";
  }
}
