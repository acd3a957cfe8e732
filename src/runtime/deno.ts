// deno-lint-ignore-file no-explicit-any
import type { RuntimeAdapter, RunningServer, ServeOptions } from "./types.ts";
import { denoUpgrade } from "./deno-web-sockets.ts";

const Deno = (globalThis as any).Deno;

export const denoRuntime: RuntimeAdapter = {
  name: "deno",
  version: Deno?.version?.deno ?? "unknown",
  upstreamFetch: globalThis.fetch,
  // Deno's fetch has no process-wide cap on concurrent requests
  prepareForServing: () => undefined,
  // Deno shares a port (reusePort) only behind --unstable-net; a worker is started with it.
  // Permissions: -A, as the deployments in the README start the proxy.
  selfCommand: () => ({ argv: [Deno.execPath(), "run", "-A", "--unstable-net", Deno.mainModule], env: {} }),
  serve({ hostname, port, fetch, reusePort = false, socketIdleSeconds = 30 }: ServeOptions): Promise<RunningServer> {
    return new Promise((resolve) => {
      const server = Deno.serve({
        hostname,
        port,
        reusePort,
        onListen(addr: { port: number; hostname: string }) {
          resolve({
            port: addr.port,
            hostname: addr.hostname,
            // Deno has no "cut open connections now"; shutdown waits for them either way.
            stop: () => server.shutdown(),
          });
        },
        handler: (request: Request) => fetch(request, denoUpgrade(Deno, socketIdleSeconds)),
      });
    });
  },
};
