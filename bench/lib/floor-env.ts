/**
 * What every bun floor (floor-proxy.ts, floor-buffered.ts, stream-floor.ts) takes from its
 * environment, as targets.ts starts them: PORT, UPSTREAM (the mock), CLIENT_KEY, UPSTREAM_KEY.
 */
export const FLOOR = {
  port: Number(process.env.PORT),
  /** The mock's chat completions, as ours rewrites /v1/chat/completions for gpt-4o. */
  upstream: `${process.env.UPSTREAM}/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21`,
  /** The Authorization header a client must send. */
  auth: `Bearer ${process.env.CLIENT_KEY}`,
  upstreamKey: process.env.UPSTREAM_KEY!,
};

export const UNAUTHORIZED = () => new Response("unauthorized", { status: 401 });
