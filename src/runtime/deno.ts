// deno-lint-ignore-file no-explicit-any
import type { RuntimeAdapter, RunningServer, ServeOptions } from "./types.ts";
import { denoSockets } from "./deno-web-sockets.ts";

const Deno = (globalThis as any).Deno;

const DRAINING = () => Response.json({ error: { message: "The proxy is shutting down; retry on another instance.", type: "server_error", param: null, code: "draining" } }, { status: 503, headers: { "retry-after": "1", connection: "close" } });

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
    const sockets = denoSockets(Deno, socketIdleSeconds);
    let stopping = false;
    return new Promise((resolve) => {
      const server = Deno.serve({
        hostname,
        port,
        reusePort,
        onListen(addr: { port: number; hostname: string }) {
          resolve({
            port: addr.port,
            hostname: addr.hostname,
            // Deno has no "cut open connections now"; shutdown waits for requests either way. But
            // it closes WebSockets at once (1001), which would end Realtime sessions before their
            // grace period: while any is open, new requests get a 503 instead (what /readyz says
            // during a drain too), and the listener shuts down when the last one has closed.
            stop(closeActive = false) {
              stopping = true;
              if (closeActive) return server.shutdown();
              return new Promise<void>((done) => sockets.whenNone(() => server.shutdown().then(done, done)));
            },
          });
        },
        handler: (request: Request) => (stopping && sockets.open > 0 ? DRAINING() : fetch(request, sockets.upgrade)),
      });
    });
  },
};
