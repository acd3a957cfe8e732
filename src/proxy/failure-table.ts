/**
 * The one failure table: what a failed upstream attempt means for routing. Each row says
 * whether another deployment may be tried, what cools (the whole resource, that deployment, or
 * nothing), for how long, and the `outcome` label of azure_proxy_upstream_attempts_total. The
 * retry loop (forward.ts), the attempt metric (attempt.ts) and the Realtime handshake's failover
 * (realtime/handshake.ts) read it; nothing else decides. outcome.ts only turns an answer or a
 * fetch error into the Failure this table is looked up by.
 *
 * Why each scope (README "Routing: what cools what"):
 * - a refused connection, connect timeout, DNS or TLS failure says nothing about one model: no
 *   deployment of that resource can be reached, so the resource cools as a whole;
 * - a 429 or 503 is Azure's word about one deployment's quota or capacity, with Retry-After;
 * - a first-byte or idle timeout, a 500/502/504: the resource answered, so only that deployment
 *   is suspect, for `retry.default_cooldown_ms`. A 500 may also be one bad request: forward.ts
 *   cools only on a request's first 500, so one poisonous request cannot cool every deployment,
 *   and that cooldown is soft: a deployment cooling after a 500 is still tried when no other is
 *   ready (a lone deployment is not shut for 10 s by one error);
 * - Azure refusing our credentials (401/403) holds for every deployment on the resource; with
 *   Entra ID the cached token is dropped and one fresh token tried first (`refreshToken`).
 */
import type { Failure } from "../lib/failure.ts";
import { retryDelayMs } from "./retry-after.ts";

export type FailureClass =
  | "connect_failed"
  | "connect_timeout"
  | "rate_limited"
  | "unavailable"
  | "server_error"
  | "first_byte_timeout"
  | "idle_timeout"
  | "credentials_refused"
  | "token_unavailable"
  | "operation_not_available"
  | "client_error"
  | "not_retryable";

export type CooldownScope = "resource" | "deployment" | "none";

export interface FailureRow {
  /** Another deployment (or, after a backoff, the same one) may be tried while nothing was sent. */
  readonly retry: boolean;
  readonly scope: CooldownScope;
  /** `retry_after`: Azure's Retry-After (default_cooldown_ms when absent); `default`: default_cooldown_ms. */
  readonly duration: "retry_after" | "default" | null;
  /** The `outcome` label on azure_proxy_upstream_attempts_total. */
  readonly outcome: string;
  /** Drop the cached Entra ID token and try the same upstream once with a fresh one first. */
  readonly refreshToken?: boolean;
  /** Cool only on a request's first failure of this class (a 500 may be the request's fault). */
  readonly firstOnly?: boolean;
  /** Our guess, not Azure's word: the cooling deployment is still tried when no other is ready. */
  readonly soft?: boolean;
}

export const FAILURE_TABLE: Readonly<Record<FailureClass, FailureRow>> = Object.freeze({
  connect_failed: { retry: true, scope: "resource", duration: "default", outcome: "connect_error" },
  connect_timeout: { retry: true, scope: "resource", duration: "default", outcome: "timeout" },
  rate_limited: { retry: true, scope: "deployment", duration: "retry_after", outcome: "429" },
  unavailable: { retry: true, scope: "deployment", duration: "retry_after", outcome: "5xx" },
  server_error: { retry: true, scope: "deployment", duration: "default", outcome: "5xx", firstOnly: true, soft: true },
  first_byte_timeout: { retry: true, scope: "deployment", duration: "default", outcome: "timeout" },
  idle_timeout: { retry: true, scope: "deployment", duration: "default", outcome: "timeout" },
  credentials_refused: { retry: true, scope: "resource", duration: "default", outcome: "auth_error", refreshToken: true },
  token_unavailable: { retry: true, scope: "resource", duration: "default", outcome: "auth_error" },
  // the upstream's API style lacks the operation (prepare.ts): another upstream may have it
  operation_not_available: { retry: true, scope: "none", duration: null, outcome: "operation_not_available" },
  client_error: { retry: false, scope: "none", duration: null, outcome: "4xx" },
  not_retryable: { retry: false, scope: "none", duration: null, outcome: "other" },
});

/** The table's row name for a failure. */
export function classify(failure: Failure): FailureClass {
  const { status, origin, code } = failure.detail;
  switch (failure.kind) {
    case "upstream_status":
      if (status === 429) return "rate_limited";
      if (status === 503) return "unavailable";
      if (status !== undefined && status >= 500) return "server_error";
      return "client_error";
    case "upstream_unreachable":
      return "connect_failed";
    case "upstream_timeout":
      return origin === "first_byte" ? "first_byte_timeout" : origin === "idle" ? "idle_timeout" : "connect_timeout";
    case "upstream_auth":
      return origin === "token" ? "token_unavailable" : "credentials_refused";
    default:
      return code === "operation_not_available" ? "operation_not_available" : failure.kind === "invalid_request" ? "client_error" : "not_retryable";
  }
}

export function rowFor(failure: Failure): FailureRow {
  return FAILURE_TABLE[classify(failure)];
}

/** The attempt metric's outcome: the table's, except failures that are not the upstream's (client_closed, …) keep their kind. */
export function outcomeOf(failure: Failure): string {
  const klass = classify(failure);
  return klass === "not_retryable" ? failure.kind : FAILURE_TABLE[klass].outcome;
}

/** How long a row's cooldown lasts: Azure's Retry-After (bounded), or retry.default_cooldown_ms. */
export function cooldownMs(row: FailureRow, failure: Failure, retry: { readonly default_cooldown_ms: number; readonly max_cooldown_ms: number }): number {
  return row.duration === "retry_after"
    ? retryDelayMs(failure.detail.headers ?? {}, retry.default_cooldown_ms, retry.max_cooldown_ms)
    : retry.default_cooldown_ms;
}
