/**
 * The floor: the least a Bun proxy can do for the same call, compiled the same way as ours
 * (run.ts builds it into bench/.build/bun-floor). Key check, path rewrite, api-key header,
 * body passed through natively. The gap between it and nginx is the runtime's; the gap
 * between ours and it is ours to close.
 *   PORT=… UPSTREAM=http://127.0.0.1:… CLIENT_KEY=… UPSTREAM_KEY=… bun-floor
 */
const upstream = `${process.env.UPSTREAM}/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21`;
const auth = `Bearer ${process.env.CLIENT_KEY}`;
const upstreamHeaders = { "api-key": process.env.UPSTREAM_KEY!, "content-type": "application/json" };

Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT),
  idleTimeout: 0,
  async fetch(request) {
    if (request.headers.get("authorization") !== auth) return new Response("unauthorized", { status: 401 });
    const response = await fetch(upstream, { method: "POST", headers: upstreamHeaders, body: await request.text(), signal: request.signal });
    return new Response(response.body, { status: response.status, headers: response.headers });
  },
});
