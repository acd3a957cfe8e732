/**
 * Turn what came back from Azure (an error status, or a thrown fetch) into a typed Failure
 * that keeps its meaning for the client. Azure's error bodies vary: `code` is sometimes a
 * numeric string, `type` is often null, `param` can be "", and APIM's 401 has no `error`
 * wrapper at all (docs/azure.md §8.4). All become OpenAI's shape; Azure's extra fields
 * (innererror, content_filters) are kept beside it, since clients ignore what they don't know.
 */
import type { UpstreamTarget } from "../config/resolve.ts";
import { concatBytes } from "../lib/bytes.ts";
import { Failure } from "../lib/failure.ts";
import { retryHeaders } from "../lib/headers.ts";
import type { ProxyCall } from "./call.ts";
import { unavailable, type Target } from "./prepare.ts";

const MAX_ERROR_BODY = 64 * 1024;

/**
 * `idleMs`: an error body that stops arriving is cut after this much silence, and what came is
 * kept: the status alone still says what failed, so the retry loop can fail over at once.
 */
export async function failureFromUpstream(response: Response, { upstream, route }: Target, call: ProxyCall, idleMs: number): Promise<Failure> {
  const text = await readCapped(response, idleMs);
  const azure = parseAzureError(text);
  const where = `upstream '${upstream.name}'`;
  const status = response.status;
  const headers = retryHeaders(response.headers);

  if (status === 401 || status === 403) {
    // Azure refused *our* key or network: the client's key was fine, so a 401 would mislead it.
    return new Failure("upstream_auth", `Azure rejected the proxy's credentials at ${where} (HTTP ${status}): ${azure.message}`, {
      code: "upstream_auth_failed",
      origin: "refused",
    });
  }
  if (status >= 300 && status < 400) {
    return new Failure("upstream_broke", `${where} answered with an unexpected redirect (HTTP ${status})`, { code: "upstream_redirect" });
  }
  // Realtime's handshake and HTTP operations (realtime/) are no table operation: theirs is undefined
  if (status === 404 && call.operation?.v1Unlisted && upstream.style === "v1" && azure.code !== "DeploymentNotFound") {
    return unavailable(call.operation, upstream, "a dated API version such as 2024-10-21");
  }
  const message =
    status === 404 && azure.code === "DeploymentNotFound" && route
      ? `Model '${call.model}' is mapped to deployment '${route.deployment}' at ${where}, which Azure does not know: ${azure.message}`
      : azure.message;
  return new Failure("upstream_status", message, {
    status,
    type: azure.type ?? typeForStatus(status),
    param: azure.param,
    code: azure.code,
    headers,
    extra: azure.extra,
  });
}

/**
 * `timedOut` names the proxy's own timer that aborted the call: the first-byte timeout, or the
 * idle timeout while the answer's body (an error body included) was still to come.
 */
export function failureFromFetchError(
  error: unknown,
  upstream: UpstreamTarget,
  clientGone: boolean,
  timedOut: { kind: "first_byte" | "idle"; ms: number } | null,
): Failure {
  const where = `upstream '${upstream.name}'`;
  if (clientGone) return new Failure("client_closed", "the client closed the request");
  const name = (error as { name?: string })?.name;
  const code = (error as { code?: string })?.code;
  if (timedOut?.kind === "first_byte") {
    return new Failure("upstream_timeout", `${where} sent no response within ${timedOut.ms} ms (timeouts.first_byte_ms)`, {
      code: "upstream_timeout",
      origin: "first_byte",
    });
  }
  if (timedOut?.kind === "idle") {
    return new Failure("upstream_timeout", `${where} stopped sending its answer for ${timedOut.ms} ms (timeouts.idle_ms)`, {
      code: "upstream_timeout",
      origin: "idle",
    });
  }
  if (name === "TimeoutError" || code === "ETIMEDOUT" || code === "CONNECT_TIMEOUT") {
    return new Failure(
      "upstream_timeout",
      `${where} did not answer in time${code === "CONNECT_TIMEOUT" ? " (no connection within timeouts.connect_ms)" : ""}`,
      { code: "upstream_timeout", origin: "connect_timeout" },
    );
  }
  return new Failure("upstream_unreachable", `could not reach ${where}${code ? ` (${code})` : ""}`, { code: "upstream_unreachable", origin: "connect" });
}

interface AzureError {
  message: string;
  type: string | null;
  param: string | null;
  code: string | null;
  extra: Record<string, unknown>;
}

function parseAzureError(text: string): AzureError {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { message: text.trim().slice(0, 500) || "Azure returned an empty error body", type: null, param: null, code: null, extra: {} };
  }
  const record = (body && typeof body === "object" ? body : {}) as Record<string, unknown>;
  const inner = (record.error && typeof record.error === "object" ? record.error : record) as Record<string, unknown>;
  const { message, type, param, code, statusCode: _s, status: _t, ...extra } = inner;
  return {
    message: typeof message === "string" && message ? message : JSON.stringify(body).slice(0, 500),
    type: typeof type === "string" && type ? type : null,
    param: typeof param === "string" && param ? param : null,
    code: code === null || code === undefined || code === "" ? null : String(code),
    extra,
  };
}

function typeForStatus(status: number): string {
  if (status === 429) return "rate_limit_error";
  if (status === 404) return "not_found_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

async function readCapped(response: Response, idleMs: number): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  // one timer, re-armed per chunk (error bodies are small: a few chunks at most)
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onIdle: (value: "idle") => void = () => {};
  const silence = new Promise<"idle">((resolve) => (onIdle = resolve));
  const rearm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => onIdle("idle"), idleMs);
  };
  rearm();
  try {
    while (size < MAX_ERROR_BODY) {
      const next = await Promise.race([reader.read(), silence]);
      if (next === "idle" || next.done) break;
      chunks.push(next.value);
      size += next.value.byteLength;
      rearm();
    }
  } catch {
    // a cut error body still has its status; keep what arrived
  } finally {
    clearTimeout(timer);
    reader.cancel().catch(() => {});
  }
  return new TextDecoder().decode(concatBytes(chunks).subarray(0, MAX_ERROR_BODY));
}
