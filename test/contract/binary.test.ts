/**
 * The compiled executable, run the way an operator runs it: copied away from the source tree,
 * no Bun on PATH, no node_modules. (.ci/run also runs the whole contract suite against it.)
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chatBody, CLIENT_KEY, post } from "../harness/fixture.ts";
import { runProxyCommand, startProxy } from "../harness/proxy.ts";
import { startSimulator, type RunningSimulator } from "../harness/simulator.ts";
import { contentOf, readEvents } from "../harness/sse.ts";

const ROOT = resolve(import.meta.dir, "../..");
let dir: string;
let binary: string;
let sim: RunningSimulator;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "azure-proxy-bin-"));
  binary = join(dir, "azure-proxy");
  const build = Bun.spawnSync([process.execPath, resolve(ROOT, "scripts/build.ts"), "--outfile", binary], { cwd: ROOT });
  if (build.exitCode !== 0) throw new Error(`build failed: ${build.stderr.toString()}`);
  sim = await startSimulator();
}, 60_000);

afterAll(async () => {
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
});

const run = (args: string[], env: Record<string, string | undefined> = {}) => runProxyCommand(args, { PATH: "/usr/bin:/bin", ...env }, [binary]);

describe("the compiled binary", () => {
  test("answers --version and --help with no Bun on PATH", async () => {
    const version = await run(["--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^azure-proxy \d+\.\d+\.\d+ \(bun 1\.4\.\d+\)/);
    expect((await run(["--help"])).stdout).toContain("Usage:");
    expect((await run(["check"], { AZURE_OPENAI_API_VERSION: "bad" })).code).toBe(2);
  });

  test("serves streaming and non-streaming chat, and aborts upstream when the client leaves", async () => {
    const proxy = await startProxy({
      command: [binary],
      env: { PATH: "/usr/bin:/bin", AZURE_OPENAI_ENDPOINT: sim.url, AZURE_OPENAI_API_KEY: sim.key, AUTH_KEY: CLIENT_KEY },
    });
    try {
      const url = `${proxy.url}/v1/chat/completions`;
      const plain = await post(url, chatBody());
      expect(plain.status).toBe(200);
      expect((await plain.json()).object).toBe("chat.completion");

      const events = await readEvents(await post(url, chatBody("[sim reply=from_the_binary]", { stream: true })));
      expect(contentOf(events)).toBe("from the binary");
      expect(events.at(-1)!.data).toBe("[DONE]");

      const marker = crypto.randomUUID();
      const abort = new AbortController();
      const response = await post(url, chatBody(`${marker} [sim chunk_ms=200]`, { stream: true }), {}, abort.signal);
      await response.body!.getReader().read();
      abort.abort();
      const seen = await sim.recorder.waitFor((r) => r.bodyText.includes(marker) && r.clientClosed, 2000);
      expect(seen.completed).toBe(false);

      expect((await post(url, "{")).status).toBe(400);
    } finally {
      expect(await proxy.stop()).toBe(0);
    }
  });

  // The binary re-executes itself to raise Bun's fetch limit (src/runtime/bun.ts). Runtime
  // flags (BUN_OPTIONS, or ones built in) show in process.execArgv; passed on the command line
  // they were read as the program's own arguments ("Unknown option '--smol'").
  test("serves with runtime flags in BUN_OPTIONS", async () => {
    const proxy = await startProxy({
      command: [binary],
      env: { PATH: "/usr/bin:/bin", BUN_OPTIONS: "--smol", AZURE_OPENAI_ENDPOINT: sim.url, AZURE_OPENAI_API_KEY: sim.key, AUTH_KEY: CLIENT_KEY },
    });
    try {
      expect((await post(`${proxy.url}/v1/chat/completions`, chatBody())).status).toBe(200);
    } finally {
      expect(await proxy.stop()).toBe(0);
    }
  });
});
