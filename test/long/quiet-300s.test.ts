/**
 * Five minutes of upstream silence, the longest case: longer than Bun's largest server
 * idle timeout (255 s), Bun's fetch idle cut-off (300 s) and nginx's default read timeout (60 s).
 * Runs when AZURE_PROXY_LONG_TESTS=1; .ci/run starts it in the background beside the other
 * runs, so its five minutes cost CI no time. The three cases run at once.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { CLIENT_KEY, chatBody, startStack, type Stack } from "../harness/fixture.ts";
import { contentOf, readEvents } from "../harness/sse.ts";

const QUIET_MS = 300_000;
const long = process.env.AZURE_PROXY_LONG_TESTS === "1" ? test.concurrent : test.skip;
let stack: Stack;

beforeAll(async () => {
  if (process.env.AZURE_PROXY_LONG_TESTS === "1") stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

// the test's own client must not give up first: Bun's fetch has a 300 s idle cut-off of its own
const chat = (body: unknown) =>
  fetch(`${stack.proxy.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" },
    body: JSON.stringify(body),
    timeout: false,
  } as RequestInit);

long(
  "a stream quiet for 300 s between chunks arrives whole, kept alive by heartbeats",
  async () => {
    const started = Date.now();
    const text = await (await chat(chatBody(`[sim stall_after=2 stall_ms=${QUIET_MS} reply=after_five_minutes]`, { stream: true }))).text();
    expect(Date.now() - started).toBeGreaterThanOrEqual(QUIET_MS);
    // one every 15 s by default
    expect(text.split("\n").filter((l) => l === ": keep-alive").length).toBeGreaterThanOrEqual(19);
    const events = await readEvents(new Response(text));
    expect(events.at(-1)!.data).toBe("[DONE]");
    expect(contentOf(events)).toBe("after five minutes");
  },
  QUIET_MS + 60_000,
);

long(
  "a stream whose first byte comes after 300 s arrives whole",
  async () => {
    const response = await chat(chatBody(`[sim first_byte_ms=${QUIET_MS} reply=thought_long]`, { stream: true }));
    expect(response.status).toBe(200);
    const events = await readEvents(response);
    expect(events.at(-1)!.data).toBe("[DONE]");
    expect(contentOf(events)).toBe("thought long");
  },
  QUIET_MS + 60_000,
);

long(
  "a non-streaming answer after 300 s of silence arrives",
  async () => {
    const response = await chat(chatBody(`[sim first_byte_ms=${QUIET_MS}]`));
    expect(response.status).toBe(200);
    expect((await response.json()).object).toBe("chat.completion");
  },
  QUIET_MS + 60_000,
);
