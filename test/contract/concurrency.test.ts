/**
 * Many calls at once: the proxy must not queue upstream calls behind a runtime limit (Bun's
 * fetch allows 256 at once per process unless told otherwise at start).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { resolve } from "node:path";
import { chatBody, CLIENT_KEY, startStack, type Stack } from "../harness/fixture.ts";

let stack: Stack;
beforeAll(async () => {
  // one process: the 256-call cap of Bun's fetch is per process, and is what this file checks
  stack = await startStack({ AZURE_PROXY_WORKERS: "1" });
});
afterAll(() => stack.stop());

test("300 concurrent calls that each wait 1 s upstream all finish in about 1 s (no queue at 256)", async () => {
  const burst = Bun.spawn(
    [
      process.execPath,
      resolve(import.meta.dir, "../harness/burst.ts"),
      `${stack.proxy.url}/v1/chat/completions`,
      CLIENT_KEY,
      "300",
      JSON.stringify(chatBody("[sim first_byte_ms=1000]")),
    ],
    { env: { ...process.env, BUN_CONFIG_MAX_HTTP_REQUESTS: "1000" }, stdout: "pipe", stderr: "inherit" },
  );
  const results = JSON.parse(await new Response(burst.stdout).text()) as Array<{ ms: number; status: number }>;
  expect(await burst.exited).toBe(0);
  expect(results.every((r) => r.status === 200)).toBe(true);
  const slowest = Math.max(...results.map((r) => r.ms));
  // queued behind 256 in-flight calls, the last 44 would need a second round: >= 2 s
  expect(slowest).toBeLessThan(1900);
}, 30_000);
