/**
 * By hand: `bun bench/upload-memory.ts [path/to/azure-proxy]` (default dist/azure-proxy).
 * Uploads a 25 MB audio file for transcription through the proxy, three times, while sampling
 * the proxy's RSS every 5 ms: the peak growth shows whether the upload is held in memory (it
 * should stay far below the file size; it is spooled to an unlinked temp file past 1 MiB).
 * Loopback only; stops what it starts.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { startSimulator } from "../test/harness/simulator.ts";

const binary = resolve(process.argv[2] ?? "dist/azure-proxy");
const FILE_MB = Number(process.env.FILE_MB ?? 25);
const sim = await startSimulator();
const port = 19_000 + Math.floor(Math.random() * 1000);
const proc = Bun.spawn([binary, "serve", "--port", String(port), "--host", "127.0.0.1"], {
  env: { PATH: "/usr/bin:/bin", AZURE_OPENAI_ENDPOINT: sim.url, AZURE_OPENAI_API_KEY: sim.key, AUTH_KEY: "bench", LOG_LEVEL: "warn", AZURE_PROXY_MAX_BODY_BYTES: String((FILE_MB + 1) * 1024 * 1024) },
  stdout: "ignore",
  stderr: "inherit",
});
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${proc.pid}/status`, "utf8"))![1]) / 1024;
const base = `http://127.0.0.1:${port}`;
for (let i = 0; i < 200; i++) {
  try {
    if ((await fetch(`${base}/healthz`)).ok) break;
  } catch {
    await Bun.sleep(10);
  }
}
const file = new Uint8Array(FILE_MB * 1024 * 1024).map((_, i) => i % 251);
const upload = async () => {
  const form = new FormData();
  form.set("model", "whisper");
  form.set("file", new Blob([file], { type: "audio/wav" }), "big.wav");
  const response = await fetch(`${base}/v1/audio/transcriptions`, { method: "POST", headers: { authorization: "Bearer bench" }, body: form });
  if (response.status !== 200) throw new Error(`upload answered ${response.status}: ${await response.text()}`);
  await response.text();
};
await upload(); // warm-up: first-use allocations are not what we measure
await Bun.sleep(1000);
const before = rss();
let peak = before;
const sampler = setInterval(() => (peak = Math.max(peak, rss())), 5);
for (let i = 0; i < 3; i++) await upload();
clearInterval(sampler);
await Bun.sleep(1000);
const after = rss();
const seen = sim.recorder.all().at(-1) as unknown as { files?: Array<{ size: number }> };
console.log(
  JSON.stringify(
    { file_mb: FILE_MB, uploads: 3, rss_before_mb: +before.toFixed(1), rss_peak_mb: +peak.toFixed(1), peak_growth_mb: +(peak - before).toFixed(1), rss_after_mb: +after.toFixed(1), forwarded_bytes: seen.files?.[0]?.size },
    null,
    2,
  ),
);
proc.kill();
await proc.exited;
await sim.stop();
