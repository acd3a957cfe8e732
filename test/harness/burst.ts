export {};
/**
 * Fires N requests at once and prints their latencies as JSON: run as its own process, with
 * BUN_CONFIG_MAX_HTTP_REQUESTS raised, because the test runner's fetch queues past 256 itself.
 * Usage: bun test/harness/burst.ts URL KEY N BODY
 */
const [url, key, n, body] = process.argv.slice(2) as [string, string, string, string];
const latencies = await Promise.all(
  Array.from({ length: Number(n) }, async () => {
    const started = performance.now();
    const response = await fetch(url, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body });
    await response.text();
    return { ms: performance.now() - started, status: response.status };
  }),
);
console.log(JSON.stringify(latencies));
