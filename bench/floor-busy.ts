/**
 * The floor (floor-proxy.ts) with BUSY_US microseconds of busy JavaScript per request before its
 * fetch: what each microsecond of the proxy's own JavaScript costs end to end when the process
 * has one core, as the benchmark gives it. Bun's fetch runs on its own thread ("HTTP Client"),
 * which each fetch wakes; the busier the JavaScript thread, the more often that wake-up preempts
 * it, one fetch at a time instead of a batch. HTTP_CLIENT_NICE=N lowers that thread's priority
 * (os.setPriority on its thread id, Linux) to show the scheduler's part. By hand:
 *   bun bench/cpu.ts --no-ours --floor bench/floor-busy.ts --env BUSY_US=30 [--env HTTP_CLIENT_NICE=5] --threads
 */
import { readdirSync, readFileSync } from "node:fs";
import { setPriority } from "node:os";
import { FLOOR, serveFloor, UPSTREAM_HEADERS } from "./lib/floor-env.ts";

const BUSY_MS = Number(process.env.BUSY_US ?? 0) / 1000;
const NICE = Number(process.env.HTTP_CLIENT_NICE ?? 0);

/** The HTTP Client thread starts with the first fetch: looked for until it is there (a minute at most). */
function reniceHttpClient(tries = 300): void {
  for (const tid of readdirSync("/proc/self/task")) {
    if (readFileSync(`/proc/self/task/${tid}/comm`, "utf8").trim() === "HTTP Client") {
      setPriority(Number(tid), NICE);
      return;
    }
  }
  if (tries > 0) setTimeout(() => reniceHttpClient(tries - 1), 200);
  else console.error("floor-busy: no HTTP Client thread to renice");
}
if (NICE !== 0) reniceHttpClient();

serveFloor(async (request) => {
  const body = await request.text();
  const until = performance.now() + BUSY_MS;
  while (performance.now() < until);
  const response = await fetch(FLOOR.upstream, { method: "POST", headers: UPSTREAM_HEADERS, body, signal: request.signal });
  return new Response(response.body, { status: response.status, headers: response.headers });
});
