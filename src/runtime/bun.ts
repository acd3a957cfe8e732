/// <reference types="bun-types" />
import { Listeners } from "./listeners.ts";
import type { RuntimeAdapter, RunningServer, ServeOptions, TlsMaterial } from "./types.ts";
import type { Upgrade } from "./web-sockets.ts";
import { bunUpgrade, bunWebSocketHandler } from "./bun-web-sockets.ts";

// Bun's fetch drops a connection idle for 5 minutes (BUN_CONFIG_HTTP_IDLE_TIMEOUT); a reasoning
// model may think longer before its first byte, so the proxy's own timeouts rule instead.
const upstreamFetch = ((input: RequestInfo | URL, init: RequestInit = {}) => {
  (init as { timeout?: boolean }).timeout = false;
  return fetch(input, init);
}) as typeof fetch;

/**
 * Bun's fetch runs at most 256 requests at once per process and queues the rest silently
 * (bun-types docs/runtime/networking/fetch.mdx, "Simultaneous connection limit"); every open
 * upstream stream holds one. The limit is read once, at process start (setting it later has no
 * effect: measured, 256 either way), so the process replaces itself (process.execve, same pid
 * and arguments) with BUN_CONFIG_MAX_HTTP_REQUESTS set. An operator's own value is kept, and
 * the deploy files set it, so a production start does not pay the ~40 ms of a second start.
 */
const MAX_HTTP_REQUESTS = "BUN_CONFIG_MAX_HTTP_REQUESTS";
const MAX_HTTP_REQUESTS_VALUE = "16384";

function raiseFetchConcurrency(): string | undefined {
  if (process.env[MAX_HTTP_REQUESTS]) return undefined;
  try {
    const { argv, env } = selfCommand();
    process.execve!(argv[0]!, [...argv, ...process.argv.slice(2)], { ...process.env, ...env });
    return `could not re-execute with ${MAX_HTTP_REQUESTS} set; upstream calls beyond 256 at once will queue`;
  } catch (error) {
    return `could not raise ${MAX_HTTP_REQUESTS} (${(error as Error).message}); upstream calls beyond 256 at once will queue. Set it in the environment.`;
  }
}

/**
 * This program again: runtime flags (--cpu-prof, --smol) kept, the script when run from source.
 * A compiled binary applies its own flags (the ones built in, scripts/build.ts, and BUN_OPTIONS
 * from the inherited environment) at every start, and reads anything on its command line as
 * the program's own arguments, so it gets none of process.execArgv: `--smol` there was answered
 * with "Unknown option '--smol'".
 */
function selfCommand(): { argv: string[]; env: Record<string, string> } {
  // a compiled binary's process.argv[1] is Bun's own /$bunfs/ path, not a real argument
  const compiled = Bun.main.startsWith("/$bunfs/");
  return {
    argv: compiled ? [process.execPath] : [process.execPath, ...process.execArgv, process.argv[1]!],
    env: { [MAX_HTTP_REQUESTS]: process.env[MAX_HTTP_REQUESTS] || MAX_HTTP_REQUESTS_VALUE },
  };
}

export const bunRuntime: RuntimeAdapter = {
  name: "bun",
  version: Bun.version,
  upstreamFetch,
  prepareForServing: raiseFetchConcurrency,
  selfCommand,
  releaseIdleMemory() {
    const rssBefore = process.memoryUsage.rss();
    // Bun.shrink is JavaScriptCore's VM::shrinkFootprintWhenIdle, run once no JavaScript is on
    // the stack: every compiled code block dropped, a full collection, malloc's free memory
    // returned (what Bun itself does under memory pressure). It drops code only "if not
    // collecting": called alone it returned nothing here, after a full collection ~3 MB; the
    // collection alone returns ~0.2 MB (README.md, Performance). Marked deprecated in bun-types,
    // with no replacement named.
    Bun.gc(true);
    Bun.shrink();
    // it runs after this function returns, and mimalloc hands the pages back a few ms later
    return new Promise((resolve) => setTimeout(() => resolve({ rssBefore, rssAfter: process.memoryUsage.rss() }), 100));
  },
  async serve({ hostname, port, fetch, reusePort = false, socketIdleSeconds = 30, tls }: ServeOptions): Promise<RunningServer> {
    const websocket = bunWebSocketHandler(socketIdleSeconds);
    const listen = (at: number, material: TlsMaterial | undefined, shared: boolean) => {
      let upgrade: Upgrade | undefined;
      return Bun.serve({
        hostname,
        port: at,
        // with TLS the port is shared so that a certificate reload can open the next listener
        // before the current one stops (Bun's server.reload ignores `tls`: oven-sh/bun#43815)
        reusePort: shared,
        tls: material ? { cert: material.cert, key: material.key } : undefined,
        // Idle keep-alive connections between requests are closed after this; an in-flight
        // request gets no idle timer at all (below), because a reasoning model may think for
        // minutes before its first byte. Bun caps any non-zero value at 255 s.
        idleTimeout: 120,
        // Our own reader enforces the configured limit with an OpenAI-shaped 413; Bun's
        // limit (default 128 MiB) would answer first with a bare response.
        maxRequestBodySize: Number.MAX_SAFE_INTEGER,
        websocket,
        fetch(request, srv) {
          srv.timeout(request, 0);
          upgrade ??= bunUpgrade(srv);
          return fetch(request, upgrade) as Response | Promise<Response>;
        },
      });
    };
    const listeners = new Listeners(listen(port, tls, reusePort || tls !== undefined));
    const bound = listeners.current.port ?? port;
    return {
      port: bound,
      hostname: listeners.current.hostname ?? hostname,
      stop: (closeActive = false) => listeners.stopAll(closeActive),
      async reloadTls(material) {
        // the next listener first: the port is never without one
        listeners.replace(listen(bound, material, true));
      },
    };
  },
};
