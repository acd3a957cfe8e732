/**
 * A 25 MB multipart form made only of tiny parts (~420k of them): the shape that made the old
 * scanner quadratic (it copied the rest of its buffer at every delimiter; 100k parts took 55 s).
 * Measures (issue 10, item 4):
 * - the scanner alone, fed in 64 KiB reads as a request body arrives: parse time;
 * - through the proxy (one worker, limits.max_form_parts raised past the part count), the
 *   form's whole round trip, while /healthz is asked every 5 ms on its own connection: the
 *   longest /healthz answer shows whether parsing blocks the process. The form has no `file`,
 *   so the proxy reads and parses all of it, then answers 400 without forwarding anything;
 * - the same form under the default limit (1000 parts): how fast it is refused.
 * Part of `npm run bench` (phase "forms"); also by hand: `bun bench/tiny-part-form.ts [binary |
 * --source]` (default dist/azure-proxy; FORM_MB=25). Loopback only; stops what it starts.
 */
import { resolve } from "node:path";
import { MultipartScanner } from "../src/lib/multipart-scanner.ts";
import { configFile } from "../test/harness/config-file.ts";
import { startSimulator } from "../test/harness/simulator.ts";
import { cpuMs, freePort, start, waitForHttp, watchInterference } from "./lib/procs.ts";
import { round } from "./lib/stats.ts";

export interface TinyPartFormResult {
  form_mb: number;
  parts: number;
  scanner_parse_ms: number;
  proxy_round_trip_ms: number;
  proxy_status: number;
  /** CPU the proxy spent on the form (10 ms ticks). */
  proxy_cpu_ms: number;
  /** Share of the machine taken by work not ours meanwhile: above ~0.1 the latencies are skewed. */
  foreign_share: number;
  healthz_max_ms: number;
  healthz_answers: number;
  default_limit_round_trip_ms: number;
  default_limit_status: number;
}

const BOUNDARY = "----tiny-part-bench";

function tinyPartForm(bytes: number): { body: Uint8Array<ArrayBuffer>; parts: number } {
  const first = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper\r\n`;
  const part = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n`;
  const end = `--${BOUNDARY}--\r\n`;
  const count = Math.floor((bytes - first.length - end.length) / part.length);
  return { body: new TextEncoder().encode(first + part.repeat(count) + end), parts: count + 1 };
}

function scannerParseMs(body: Uint8Array, parts: number): number {
  let best = Infinity;
  for (let run = 0; run < 3; run++) {
    const started = performance.now();
    const scanner = new MultipartScanner(BOUNDARY);
    for (let at = 0; at < body.byteLength; at += 65_536) scanner.push(body.subarray(at, at + 65_536));
    best = Math.min(best, performance.now() - started);
    if (!scanner.complete || scanner.parts.length !== parts) throw new Error(`scanner found ${scanner.parts.length} of ${parts} parts`);
  }
  return best;
}

async function postForm(base: string, body: Uint8Array<ArrayBuffer>): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const response = await fetch(`${base}/v1/audio/transcriptions`, {
    method: "POST",
    headers: { authorization: "Bearer bench", "content-type": `multipart/form-data; boundary=${BOUNDARY}` },
    body,
    signal: AbortSignal.timeout(60_000),
  });
  await response.text();
  return { status: response.status, ms: performance.now() - started };
}

/** Ask /healthz every `everyMs` until stopped; the longest answer. */
function healthzProbe(base: string, everyMs: number) {
  let running = true;
  let max = 0;
  let answers = 0;
  const done = (async () => {
    while (running) {
      const started = performance.now();
      const response = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(10_000) });
      await response.text();
      max = Math.max(max, performance.now() - started);
      answers++;
      await Bun.sleep(everyMs);
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      return { max, answers };
    },
  };
}

async function roundTrip(command: string[], core: number | null, sim: { url: string; key: string }, body: Uint8Array<ArrayBuffer>, limits: object) {
  const port = await freePort();
  const config = configFile({ server: { workers: 1 }, limits });
  const proc = start("tiny-part-proxy", [...command, "serve", "--config", config.path], {
    core,
    env: { HOST: "127.0.0.1", PORT: String(port), AZURE_OPENAI_ENDPOINT: sim.url, AZURE_OPENAI_API_KEY: sim.key, AUTH_KEY: "bench", LOG_LEVEL: "warn" },
  });
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/healthz`);
    await postForm(base, body.subarray(0, 0)).catch(() => {}); // warm-up of the route, not of the form
    const probe = healthzProbe(base, 5);
    await Bun.sleep(100);
    const interference = watchInterference("tiny-part form");
    const cpuBefore = cpuMs(proc.pid);
    const result = await postForm(base, body);
    // the proxy's own CPU for the form: what the machine's other work cannot stretch
    const cpu = cpuMs(proc.pid) - cpuBefore;
    const foreign = interference();
    await Bun.sleep(100);
    const healthz = await probe.stop();
    return { ...result, healthz, cpu, foreign };
  } finally {
    await proc.stop();
  }
}

export async function measureTinyPartForm({ command, formMb, core }: { command: string[]; formMb: number; core: number | null }): Promise<TinyPartFormResult> {
  const { body, parts } = tinyPartForm(formMb * 1_000_000);
  const scannerMs = scannerParseMs(body, parts);
  const sim = await startSimulator();
  try {
    const raised = await roundTrip(command, core, sim, body, { max_form_parts: parts + 10 });
    const defaults = await roundTrip(command, core, sim, body, {});
    if (sim.recorder.all().length > 0) throw new Error("the form reached the upstream; it should have been refused");
    return {
      form_mb: round(body.byteLength / 1e6, 1),
      parts,
      scanner_parse_ms: round(scannerMs, 1),
      proxy_round_trip_ms: round(raised.ms, 1),
      proxy_status: raised.status,
      proxy_cpu_ms: raised.cpu,
      foreign_share: round(raised.foreign, 2),
      healthz_max_ms: round(raised.healthz.max, 1),
      healthz_answers: raised.healthz.answers,
      default_limit_round_trip_ms: round(defaults.ms, 1),
      default_limit_status: defaults.status,
    };
  } finally {
    await sim.stop();
  }
}

if (import.meta.main) {
  const arg = process.argv[2] ?? "dist/azure-proxy";
  const command = arg === "--source" ? [process.execPath, resolve(import.meta.dir, "../src/main.ts")] : [resolve(arg)];
  console.log(JSON.stringify(await measureTinyPartForm({ command, formMb: Number(process.env.FORM_MB ?? 25), core: null }), null, 2));
}
