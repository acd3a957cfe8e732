import { request as httpsRequest } from "node:https";
import { parseFlags } from "./args.ts";

/**
 * For Docker's HEALTHCHECK: no curl in a distroless image, so the binary checks itself. Without
 * --url it asks its own listener as the environment the server got describes it: PORT, HOST when
 * that names one address, and HTTPS when AZURE_PROXY_TLS_CERT is set. That certificate names the
 * public host, not the address asked here, so it is not verified on that default target: /healthz
 * takes no key and nothing secret is sent. A --url is fetched and verified like any other.
 */
export async function healthcheckCommand(args: string[]): Promise<number> {
  const flags = parseFlags(args, { url: { type: "string" } });
  const url = flags.url ?? ownListener(process.env);
  try {
    const status = flags.url === undefined && url.startsWith("https:") ? await unverifiedStatus(url) : await fetchedStatus(url);
    if (status >= 200 && status < 300) return 0;
    console.error(`healthcheck: ${url} answered ${status}`);
  } catch (error) {
    console.error(`healthcheck: ${url} unreachable: ${(error as Error).message}`);
  }
  return 1;
}

const TIMEOUT_MS = 3000;

const WILDCARDS = new Set(["", "0.0.0.0", "::", "[::]"]);

function ownListener(env: Record<string, string | undefined>): string {
  const scheme = env.AZURE_PROXY_TLS_CERT ? "https" : "http";
  const host = env.HOST?.trim() ?? "";
  // a wildcard listens on loopback too; a named address may be the only one it listens on
  let address = WILDCARDS.has(host) ? "127.0.0.1" : host;
  if (address.includes(":") && !address.startsWith("[")) address = `[${address}]`;
  return `${scheme}://${address}:${env.PORT || 8000}/healthz`;
}

async function fetchedStatus(url: string): Promise<number> {
  const response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  await response.body?.cancel();
  return response.status;
}

function unverifiedStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest(url, { rejectUnauthorized: false, timeout: TIMEOUT_MS }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on("timeout", () => request.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    request.on("error", reject);
    request.end();
  });
}
