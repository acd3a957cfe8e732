/**
 * Uploads a 25 MB audio file for transcription through the proxy, three times, while sampling
 * the proxy's RSS every 5 ms: the peak growth shows whether the upload is held in memory (it
 * should stay far below the file size; it is spooled to an unlinked temp file past 1 MiB).
 * Part of `npm run bench` (full mode); also by hand: `bun bench/upload-memory.ts [binary]`
 * (default dist/azure-proxy; FILE_MB=25). Uses the simulator, which parses the multipart
 * body and reports the file size it received. Loopback only; stops what it starts.
 */
import { resolve } from "node:path";
import { startSimulator } from "../test/harness/simulator.ts";
import { freePort, rssMb, rssSampler, start, waitForHttp } from "./lib/procs.ts";
import { round } from "./lib/stats.ts";

export interface UploadMemoryResult {
  file_mb: number;
  uploads: number;
  rss_before_mb: number;
  rss_peak_mb: number;
  peak_growth_mb: number;
  rss_after_mb: number;
  forwarded_bytes: number | undefined;
}

export async function measureUploadMemory({ binary, fileMb, core }: { binary: string; fileMb: number; core: number | null }): Promise<UploadMemoryResult> {
  const sim = await startSimulator();
  const port = await freePort();
  const proc = start("upload-proxy", [binary, "serve"], {
    core,
    env: {
      HOST: "127.0.0.1",
      PORT: String(port),
      AZURE_OPENAI_ENDPOINT: sim.url,
      AZURE_OPENAI_API_KEY: sim.key,
      AUTH_KEY: "bench",
      LOG_LEVEL: "warn",
      AZURE_PROXY_MAX_BODY_BYTES: String((fileMb + 1) * 1024 * 1024),
    },
  });
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/healthz`);
    const file = new Uint8Array(fileMb * 1024 * 1024).map((_, i) => i % 251);
    const upload = async () => {
      const form = new FormData();
      form.set("model", "whisper");
      form.set("file", new Blob([file], { type: "audio/wav" }), "big.wav");
      const response = await fetch(`${base}/v1/audio/transcriptions`, {
        method: "POST",
        headers: { authorization: "Bearer bench" },
        body: form,
        signal: AbortSignal.timeout(60_000),
      });
      if (response.status !== 200) throw new Error(`upload answered ${response.status}: ${await response.text()}`);
      await response.text();
    };
    await upload(); // warm-up: first-use allocations are not what we measure
    await Bun.sleep(1000);
    const before = rssMb(proc.pid);
    const sampler = rssSampler(proc.pid, 5);
    for (let i = 0; i < 3; i++) await upload();
    const peak = sampler.stop();
    await Bun.sleep(1000);
    const after = rssMb(proc.pid);
    const seen = sim.recorder.all().at(-1) as unknown as { files?: Array<{ size: number }> };
    return {
      file_mb: fileMb,
      uploads: 3,
      rss_before_mb: round(before, 1),
      rss_peak_mb: round(peak, 1),
      peak_growth_mb: round(peak - before, 1),
      rss_after_mb: round(after, 1),
      forwarded_bytes: seen.files?.[0]?.size,
    };
  } finally {
    await proc.stop();
    await sim.stop();
  }
}

if (import.meta.main) {
  const binary = resolve(process.argv[2] ?? "dist/azure-proxy");
  console.log(JSON.stringify(await measureUploadMemory({ binary, fileMb: Number(process.env.FILE_MB ?? 25), core: null }), null, 2));
}
