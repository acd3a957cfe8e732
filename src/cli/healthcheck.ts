import { request as httpsRequest } from "node:https";
import { loadConfig } from "../config/load.ts";
import { parseFlags, portFlag } from "./args.ts";

/**
 * For Docker's HEALTHCHECK: no curl in a distroless image, so the binary checks itself. Without
 * --url it asks its own listener as `serve` would find it from the same environment, config file
 * (--config, AZURE_PROXY_CONFIG) and --host/--port: the host when it names one address, and HTTPS
 * when server.tls is set. That certificate names the public host, not the address asked here, so
 * it is not verified on that default target: /healthz takes no key and nothing secret is sent. A
 * --url is fetched and verified like any other.
 */
export async function healthcheckCommand(args: string[]): Promise<number> {
  const flags = parseFlags(args, { url: { type: "string" }, config: { type: "string" }, host: { type: "string" }, port: { type: "string" } });
  const url = flags.url ?? ownListener(process.env, { configPath: flags.config, host: flags.host, port: portFlag(flags.port) });
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

/** The listener serve would open; from the environment alone when the config does not load. */
function ownListener(env: Record<string, string | undefined>, cli: { configPath?: string; host?: string; port?: number }): string {
  const loaded = loadConfig({ env, cli });
  const fromEnv = { host: cli.host ?? env.HOST ?? "", port: cli.port ?? Number(env.PORT || 8000), tls: env.AZURE_PROXY_TLS_CERT };
  const server = loaded.ok ? loaded.config.server : fromEnv;
  const host = server.host.trim();
  // a wildcard listens on loopback too; a named address may be the only one it listens on
  let address = WILDCARDS.has(host) ? "127.0.0.1" : host;
  if (address.includes(":") && !address.startsWith("[")) address = `[${address}]`;
  return `${server.tls ? "https" : "http"}://${address}:${server.port}/healthz`;
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
