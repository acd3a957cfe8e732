/**
 * Azure's response headers (docs/azure.md §5.3) and the answers a fault directive asks for
 * before any operation runs (§5.2 bodies; 429 with `retry-after` and `retry-after-ms`).
 */
import { AZURE_BODIES, rateLimited } from "./azure-errors.ts";
import type { Faults } from "./faults.ts";
import { json } from "./operations/context.ts";

export function azureHeaders(region: string, request: Request): Headers {
  const id = crypto.randomUUID();
  const headers = new Headers({
    "content-type": "application/json",
    "apim-request-id": id,
    "x-request-id": crypto.randomUUID(),
    "x-ms-region": region,
    "x-ratelimit-remaining-requests": "99",
    "x-ratelimit-remaining-tokens": "99000",
  });
  headers.set("x-ms-client-request-id", request.headers.get("x-ms-client-request-id") ?? id);
  return headers;
}

/**
 * `filterBody` is the operation's own prompt-filter answer (images have their own, §5.2);
 * `operation` is Azure's operation name for the 429 message (ChatCompletions_Create, …).
 */
export function faultResponse(
  faults: Faults,
  operation: string,
  apiVersion: string,
  headers: Headers,
  filterBody: unknown = AZURE_BODIES.promptFiltered,
): Response | undefined {
  if (faults.filter === "prompt") return json(filterBody, 400, headers);
  if (faults.status === undefined) return undefined;
  if (faults.status === 429) {
    const seconds = faults.retryAfter ?? 1;
    headers.set("retry-after", String(seconds));
    headers.set("retry-after-ms", String(faults.retryAfterMs ?? seconds * 1000));
    headers.set("x-ratelimit-remaining-requests", "0");
    headers.set("x-ratelimit-remaining-tokens", "0");
    return json(rateLimited(operation, apiVersion, seconds), 429, headers);
  }
  if (faults.status === 503) return json(AZURE_BODIES.unavailable, 503, headers);
  if (faults.status >= 500) return json(AZURE_BODIES.internal, faults.status, headers);
  return json({ error: { code: String(faults.status), message: `Simulated HTTP ${faults.status}` } }, faults.status, headers);
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
