/// <reference types="bun-types" />
import type { RuntimeAdapter, RunningServer, ServeOptions } from "./types.ts";

// Bun's fetch drops a connection idle for 5 minutes (BUN_CONFIG_HTTP_IDLE_TIMEOUT); a reasoning
// model may think longer before its first byte, so the proxy's own timeouts rule instead.
const upstreamFetch = ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, { ...init, timeout: false } as RequestInit)) as typeof fetch;

export const bunRuntime: RuntimeAdapter = {
  name: "bun",
  version: Bun.version,
  upstreamFetch,
  async serve({ hostname, port, fetch }: ServeOptions): Promise<RunningServer> {
    const server = Bun.serve({
      hostname,
      port,
      // Idle keep-alive connections between requests are closed after this; an in-flight
      // request gets no idle timer at all (below), because a reasoning model may think for
      // minutes before its first byte. Bun caps any non-zero value at 255 s.
      idleTimeout: 120,
      // Our own reader enforces the configured limit with an OpenAI-shaped 413; Bun's
      // limit (default 128 MiB) would answer first with a bare response.
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
      fetch(request, srv) {
        srv.timeout(request, 0);
        return fetch(request);
      },
    });
    return {
      port: server.port ?? port,
      hostname: server.hostname ?? hostname,
      stop: (closeActive = false) => server.stop(closeActive),
    };
  },
};
