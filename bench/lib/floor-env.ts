/**
 * What every bun floor (floor-proxy.ts, floor-buffered.ts, stream-floor.ts) takes from its
 * environment, as targets.ts starts them: PORT, UPSTREAM (the mock), CLIENT_KEY, UPSTREAM_KEY;
 * and how each serves: Bun's server on that port, the client's key checked, then its relay.
 */
export const FLOOR = {
  port: Number(process.env.PORT),
  /** The mock's chat completions, as ours rewrites /v1/chat/completions for gpt-4o. */
  upstream: `${process.env.UPSTREAM}/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21`,
  /** The Authorization header a client must send. */
  auth: `Bearer ${process.env.CLIENT_KEY}`,
  upstreamKey: process.env.UPSTREAM_KEY!,
};

const UNAUTHORIZED = () => new Response("unauthorized", { status: 401 });

/** What every floor sends Azure besides the body. */
export const UPSTREAM_HEADERS = { "api-key": FLOOR.upstreamKey, "content-type": "application/json" };

/** Serve `relay` on FLOOR.port for requests that carry the client key (others: 401). */
export function serveFloor(relay: (request: Request) => Promise<Response>): void {
  Bun.serve({
    hostname: "127.0.0.1",
    port: FLOOR.port,
    idleTimeout: 0,
    fetch: (request) => (request.headers.get("authorization") === FLOOR.auth ? relay(request) : UNAUTHORIZED()),
  });
}
