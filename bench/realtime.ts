/**
 * Realtime sessions through the proxy (by hand: `bun bench/realtime.ts [binary]`, default
 * dist/azure-proxy; SESSIONS=1000, FRAMES=2000). The simulator runs in this process as the
 * upstream; the proxy is the binary, alone on its port (one worker). Prints JSON with:
 * - idle sessions: the proxy's RSS before, with SESSIONS sessions open and idle, and after;
 * - added latency per relayed frame: a binary frame's round trip (the simulator echoes it)
 *   directly to the simulator and through the proxy, FRAMES times each, one at a time; a round
 *   trip through the proxy relays two frames, so the added time per frame is half the difference;
 * - a stalled client: a session whose client stops reading while the simulator sends 256 MiB;
 *   the proxy's RSS peak while it holds at most realtime.max_buffered_bytes, and how it ended.
 * Loopback only; stops what it starts.
 */
import { resolve } from "node:path";
import { connectWebSocket, type ClientSocket } from "../src/runtime/ws-client.ts";
import { startSimulator } from "../test/harness/simulator.ts";
import { freePort, rssMb, rssSampler, start, waitForHttp } from "./lib/procs.ts";
import { percentile, round } from "./lib/stats.ts";

const KEY = "bench-realtime";

async function session(
  url: string,
  headers: Record<string, string>,
): Promise<{ socket: ClientSocket; next: () => Promise<string | Uint8Array>; closed: Promise<number> }> {
  const socket = await connectWebSocket(new URL(url), { headers, timeoutMs: 10_000, maxMessageBytes: 1 << 24 });
  const queue: Array<string | Uint8Array> = [];
  let wake: (() => void) | undefined;
  let closedWith: (code: number) => void;
  const closed = new Promise<number>((r) => (closedWith = r));
  socket.on({
    message(data) {
      queue.push(data);
      wake?.();
    },
    pong() {},
    drain() {},
    close: (code) => closedWith(code),
  });
  const next = async () => {
    while (queue.length === 0) await new Promise<void>((r) => (wake = r));
    return queue.shift()!;
  };
  return { socket, next, closed };
}

async function roundTrips(url: string, headers: Record<string, string>, frames: number): Promise<number[]> {
  const s = await session(url, headers);
  await s.next(); // session.created
  const payload = new Uint8Array(256).fill(1);
  const times: number[] = [];
  for (let i = 0; i < frames + 200; i++) {
    const t0 = performance.now();
    s.socket.send(payload);
    await s.next();
    if (i >= 200) times.push(performance.now() - t0); // the first 200 warm up
  }
  s.socket.close(1000, "");
  return times;
}

export async function measureRealtime(binary: string, sessions: number, frames: number) {
  const sim = await startSimulator();
  const port = await freePort();
  const proc = start("realtime-proxy", [binary, "serve"], {
    core: null,
    env: {
      HOST: "127.0.0.1",
      PORT: String(port),
      AZURE_OPENAI_ENDPOINT: sim.url,
      AZURE_OPENAI_API_KEY: sim.key,
      AUTH_KEY: KEY,
      LOG_LEVEL: "warn",
      AZURE_PROXY_WORKERS: "1",
    },
  });
  try {
    await waitForHttp(`http://127.0.0.1:${port}/healthz`);
    const viaProxy = `ws://127.0.0.1:${port}/v1/realtime?model=gpt-realtime`;
    const direct = `${sim.url.replace("http", "ws")}/openai/v1/realtime?model=gpt-realtime`;
    const proxyHeaders = { authorization: `Bearer ${KEY}` };

    // latency first, on a quiet proxy
    const directTimes = await roundTrips(direct, { "api-key": sim.key }, frames);
    const proxyTimes = await roundTrips(viaProxy, proxyHeaders, frames);
    const p = (xs: number[], q: number) => percentile(xs, q);
    const latency = {
      frames,
      direct_rtt_ms: { p50: round(p(directTimes, 50), 3), p99: round(p(directTimes, 99), 3) },
      proxy_rtt_ms: { p50: round(p(proxyTimes, 50), 3), p99: round(p(proxyTimes, 99), 3) },
      added_per_frame_ms: { p50: round((p(proxyTimes, 50) - p(directTimes, 50)) / 2, 3), p99: round((p(proxyTimes, 99) - p(directTimes, 99)) / 2, 3) },
    };

    await Bun.sleep(500);
    const before = rssMb(proc.pid);
    const open: Array<Awaited<ReturnType<typeof session>>> = [];
    const t0 = performance.now();
    for (let i = 0; i < sessions; i += 50) {
      const batch = await Promise.all(Array.from({ length: Math.min(50, sessions - i) }, () => session(viaProxy, proxyHeaders)));
      open.push(...batch);
    }
    await Promise.all(open.map((s) => s.next()));
    const openedMs = performance.now() - t0;
    await Bun.sleep(2000);
    const held = rssMb(proc.pid);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const inflight = Number(/^azure_proxy_inflight_realtime_sessions (\d+)/m.exec(metrics)?.[1]);
    for (const s of open) s.socket.close(1000, "");
    await Promise.all(open.map((s) => s.closed));
    await Bun.sleep(2000);
    const after = rssMb(proc.pid);
    const idle = {
      sessions,
      inflight_reported: inflight,
      open_all_ms: round(openedMs, 0),
      rss_before_mb: round(before, 1),
      rss_held_mb: round(held, 1),
      growth_mb: round(held - before, 1),
      per_session_kb: round(((held - before) * 1024) / sessions, 1),
      rss_after_close_mb: round(after, 1),
    };

    // a client that stops reading while 256 MiB come its way
    const stalledBefore = rssMb(proc.pid);
    const stalled = await session(viaProxy, proxyHeaders);
    await stalled.next();
    stalled.socket.pause();
    const sampler = rssSampler(proc.pid, 5);
    stalled.socket.send(
      JSON.stringify({
        type: "conversation.item.create",
        item: { type: "message", role: "user", content: [{ type: "input_text", text: "[sim flood_mb=256]" }] },
      }),
    );
    stalled.socket.send(JSON.stringify({ type: "response.create" }));
    const deadline = Date.now() + 30_000;
    let endedBy: string | undefined;
    while (!endedBy && Date.now() < deadline) {
      await Bun.sleep(50);
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      if (/outcome="slow_client"\} [1-9]/.test(text)) endedBy = "slow_client";
    }
    const peak = sampler.stop();
    stalled.socket.resume();
    const code = await Promise.race([stalled.closed, Bun.sleep(5000).then(() => undefined)]);
    const stall = {
      sent_by_upstream_mb: 256,
      rss_before_mb: round(stalledBefore, 1),
      rss_peak_mb: round(peak, 1),
      peak_growth_mb: round(peak - stalledBefore, 1),
      ended: endedBy ?? "not within 30 s",
      client_close_code: code,
    };
    return { binary, latency, idle, stall };
  } finally {
    await proc.stop();
    await sim.stop();
  }
}

if (import.meta.main) {
  const binary = resolve(process.argv[2] ?? "dist/azure-proxy");
  console.log(JSON.stringify(await measureRealtime(binary, Number(process.env.SESSIONS ?? 1000), Number(process.env.FRAMES ?? 2000)), null, 2));
  process.exit(0);
}
