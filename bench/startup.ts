/**
 * By hand: `bun bench/startup.ts [path/to/azure-proxy]` (default dist/azure-proxy).
 * Cold start = spawn → first answered request (a real chat call through to the simulator),
 * median of N runs; idle RSS = VmRSS of the process after that request and 2 s of rest.
 * Loopback only; every process it starts is stopped before it exits.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { startSimulator } from "../test/harness/simulator.ts";

const binary = resolve(process.argv[2] ?? "dist/azure-proxy");
const RUNS = 15;
const sim = await startSimulator();
const port = 18_000 + Math.floor(Math.random() * 1000);
const body = JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }] });

async function firstAnswer(): Promise<{ ms: number; pid: number; stop: () => Promise<unknown> }> {
  const started = performance.now();
  const proc = Bun.spawn([binary, "serve", "--port", String(port), "--host", "127.0.0.1"], {
    env: { PATH: "/usr/bin:/bin", AZURE_OPENAI_ENDPOINT: sim.url, AZURE_OPENAI_API_KEY: sim.key, AUTH_KEY: "bench", LOG_LEVEL: "warn" },
    stdout: "ignore",
    stderr: "inherit",
  });
  for (;;) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: "Bearer bench", "content-type": "application/json" },
        body,
      });
      if (response.status === 200) {
        await response.text();
        return { ms: performance.now() - started, pid: proc.pid, stop: () => (proc.kill(), proc.exited) };
      }
    } catch {
      // not listening yet
    }
    if (performance.now() - started > 10_000) throw new Error("no answer within 10 s");
    await Bun.sleep(1);
  }
}

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;

const times: number[] = [];
let idle = 0;
for (let i = 0; i < RUNS; i++) {
  const run = await firstAnswer();
  times.push(run.ms);
  if (i === RUNS - 1) {
    await Bun.sleep(2000);
    idle = rssMb(run.pid);
  }
  await run.stop();
}
times.sort((a, b) => a - b);
const { size } = Bun.file(binary);
console.log(
  JSON.stringify(
    {
      binary,
      size_mb: +(size / 1024 / 1024).toFixed(1),
      cold_start_to_first_answer_ms: { median: +times[RUNS >> 1]!.toFixed(1), min: +times[0]!.toFixed(1), max: +times.at(-1)!.toFixed(1), runs: RUNS },
      idle_rss_mb: +idle.toFixed(1),
    },
    null,
    2,
  ),
);
await sim.stop();
