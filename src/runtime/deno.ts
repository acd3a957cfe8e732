// deno-lint-ignore-file no-explicit-any
// biome-ignore-all lint/suspicious/noExplicitAny: the Deno global has no types where Bun type-checks this file
import type { RuntimeAdapter, RunningServer, ServeOptions, TlsMaterial } from "./types.ts";
import { denoSockets } from "./deno-web-sockets.ts";
import { Listeners } from "./listeners.ts";

const Deno = (globalThis as any).Deno;

const DRAINING = () =>
  Response.json(
    { error: { message: "The proxy is shutting down; retry on another instance.", type: "server_error", param: null, code: "draining" } },
    { status: 503, headers: { "retry-after": "1", connection: "close" } },
  );

export const denoRuntime: RuntimeAdapter = {
  name: "deno",
  version: Deno?.version?.deno ?? "unknown",
  upstreamFetch: globalThis.fetch,
  // Deno's fetch has no process-wide cap on concurrent requests
  prepareForServing: () => undefined,
  // no releaseIdleMemory: V8 offers a script no way to drop compiled code or return free pages
  // Deno shares a port (reusePort) only behind --unstable-net; a worker is started with it.
  // Permissions: -A, as the deployments in the README start the proxy.
  selfCommand: () => ({ argv: [Deno.execPath(), "run", "-A", "--unstable-net", Deno.mainModule], env: {} }),
  async serve({ hostname, port, fetch, reusePort = false, socketIdleSeconds = 30, tls }: ServeOptions): Promise<RunningServer> {
    const listen = (at: number, material: TlsMaterial | undefined, shared: boolean) => {
      const sockets = denoSockets(Deno, socketIdleSeconds);
      let stopping = false;
      return new Promise<{ server: any; port: number; hostname: string; stop(closeActive?: boolean): Promise<void> }>((resolve, reject) => {
        try {
          const server = Deno.serve({
            hostname,
            port: at,
            reusePort: shared,
            ...(material ? { cert: material.cert, key: material.key } : {}),
            handler: (request: Request) => (stopping && sockets.open > 0 ? DRAINING() : fetch(request, sockets.upgrade)),
            // with TLS, Deno calls this before Deno.serve has returned `server`
            onListen: (addr: { port: number; hostname: string }) => queueMicrotask(() => listening(addr)),
          });
          const listening = (addr: { port: number; hostname: string }) =>
            resolve({
              server,
              port: addr.port,
              hostname: addr.hostname,
              // Deno has no "cut open connections now"; shutdown waits for requests either way.
              // But it closes WebSockets at once (1001), which would end Realtime sessions before
              // their grace period: while any is open, new requests get a 503 instead (what
              // /readyz says during a drain too), and the listener shuts down after the last.
              stop(closeActive = false) {
                stopping = true;
                if (closeActive) return server.shutdown();
                return new Promise<void>((done) => sockets.whenNone(() => server.shutdown().then(done, done)));
              },
            });
        } catch (error) {
          reject(error);
        }
      });
    };
    const listeners = new Listeners(await listen(port, tls, reusePort));
    return {
      port: listeners.current.port,
      hostname: listeners.current.hostname,
      stop: (closeActive = false) => listeners.stopAll(closeActive),
      async reloadTls(material) {
        const previous = listeners.current;
        if (reusePort) {
          // a second listener on the port: worker processes run with --unstable-net, which Deno
          // needs for reusePort (without it, asking for it ends the process)
          listeners.replace(await listen(previous.port, material, true));
        } else {
          // a single process must free the port first; the old listener's WebSockets close (1001)
          // (shutdown frees the port at once but resolves only when its requests are done)
          listeners.retire(previous, true);
          for (let tries = 0; ; tries++) {
            try {
              listeners.current = await listen(previous.port, material, reusePort);
              break;
            } catch (error) {
              if (tries >= 50) throw error;
              await new Promise((r) => setTimeout(r, 20));
            }
          }
        }
      },
    };
  },
};
