/**
 * The floor: the least a Bun proxy can do for the same call, compiled the same way as ours
 * (run.ts builds it into bench/.build/bun-floor). Key check, path rewrite, api-key header,
 * body passed through natively. The gap between it and nginx is the runtime's; the gap
 * between ours and it is ours to close.
 *   PORT=… UPSTREAM=http://127.0.0.1:… CLIENT_KEY=… UPSTREAM_KEY=… bun-floor
 */
import { FLOOR, serveFloor, UPSTREAM_HEADERS } from "./lib/floor-env.ts";

serveFloor(async (request) => {
  const response = await fetch(FLOOR.upstream, { method: "POST", headers: UPSTREAM_HEADERS, body: await request.text(), signal: request.signal });
  return new Response(response.body, { status: response.status, headers: response.headers });
});
