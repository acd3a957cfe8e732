/**
 * The streaming load client, run as its own pinned process by run.ts (so its work lands on the
 * load core, not on the proxy's):
 *   BUN_CONFIG_MAX_HTTP_REQUESTS=8192 bun bench/sse-client.ts '<json job>'
 * The env var matters: Bun's fetch runs at most 256 requests at once, and the client must not be
 * the one queueing when we test whether the proxy does. Prints one JSON line.
 * Jobs: ttft (sequential streams: time to the first `data:` event), streams (C streams opened
 * together, each read to the end, frames counted), abort (N streams, C at a time, each aborted
 * by the client after K frames). Every job has a deadline; streams still open then are aborted.
 */
import { summary } from "./lib/stats.ts";

interface Job {
  mode: "ttft" | "streams" | "abort";
  url: string;
  headers: Record<string, string>;
  body: string;
  /** ttft: streams in sequence; abort: streams in all */
  n?: number;
  /** streams/abort: how many at once */
  concurrency?: number;
  /** abort: frames read before the client aborts */
  abortAfter?: number;
  warmup?: number;
  deadlineMs: number;
}

interface StreamResult {
  status: number;
  ttfeMs: number;
  ms: number;
  frames: number;
  done: boolean;
  error?: string;
}

const job = JSON.parse(process.argv[2]!) as Job;
const deadline = AbortSignal.timeout(job.deadlineMs);

/** Count `data:` events in a byte stream cut anywhere; a short tail carries matches across reads. */
function frameCounter() {
  const decoder = new TextDecoder();
  let tail = "";
  let frames = 0;
  let done = false;
  return {
    push(bytes: Uint8Array): void {
      const s = tail + decoder.decode(bytes, { stream: true });
      for (let i = s.indexOf("data:"); i !== -1; i = s.indexOf("data:", i + 1)) if (i + 5 > tail.length) frames++;
      if (s.indexOf("[DONE]", Math.max(0, tail.length - 5)) !== -1) done = true;
      tail = s.slice(-8);
    },
    get frames() {
      return frames;
    },
    get done() {
      return done;
    },
  };
}

async function oneStream(abortAfter = Infinity): Promise<StreamResult> {
  const started = performance.now();
  const controller = new AbortController();
  const signal = AbortSignal.any([controller.signal, deadline]);
  const count = frameCounter();
  let ttfeMs = NaN;
  let status = 0;
  try {
    const response = await fetch(job.url, { method: "POST", headers: job.headers, body: job.body, signal });
    status = response.status;
    for await (const chunk of response.body!) {
      count.push(chunk);
      if (Number.isNaN(ttfeMs) && count.frames > 0) ttfeMs = performance.now() - started;
      if (count.frames >= abortAfter) {
        controller.abort();
        break;
      }
    }
    return { status, ttfeMs, ms: performance.now() - started, frames: count.frames, done: count.done };
  } catch (error) {
    const aborted = controller.signal.aborted && !deadline.aborted;
    return {
      status,
      ttfeMs,
      ms: performance.now() - started,
      frames: count.frames,
      done: count.done,
      error: aborted ? undefined : String((error as Error).name ?? error),
    };
  }
}

function report(results: StreamResult[], wallMs: number) {
  const errors = results.filter((r) => r.error || r.status !== 200);
  const frames = results.map((r) => r.frames);
  return {
    streams: results.length,
    wall_ms: wallMs,
    errors: errors.length,
    first_error: errors[0] ? `${errors[0].status} ${errors[0].error ?? ""}`.trim() : undefined,
    frames_total: frames.reduce((a, b) => a + b, 0),
    frames_min: Math.min(...frames),
    frames_max: Math.max(...frames),
    completed: results.filter((r) => r.done).length,
    ttfe_ms: summary(results.map((r) => r.ttfeMs).filter((x) => !Number.isNaN(x))),
    stream_ms: summary(results.map((r) => r.ms)),
    deadline_hit: deadline.aborted,
  };
}

async function pool(total: number, concurrency: number, one: () => Promise<StreamResult>): Promise<StreamResult[]> {
  const results: StreamResult[] = [];
  let next = 0;
  const worker = async () => {
    while (next < total && !deadline.aborted) {
      next++;
      results.push(await one());
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return results;
}

const wallStart = performance.now();
let out: unknown;
if (job.mode === "ttft") {
  for (let i = 0; i < (job.warmup ?? 0) && !deadline.aborted; i++) await oneStream();
  out = report(await pool(job.n!, 1, () => oneStream()), performance.now() - wallStart);
} else if (job.mode === "streams") {
  const c = job.concurrency!;
  out = report(await Promise.all(Array.from({ length: c }, () => oneStream())), performance.now() - wallStart);
} else {
  out = report(await pool(job.n!, job.concurrency!, () => oneStream(job.abortAfter!)), performance.now() - wallStart);
}
console.log(JSON.stringify(out));
process.exit(0);
