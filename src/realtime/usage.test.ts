import { expect, test } from "bun:test";
import { SessionUsage } from "./usage.ts";

const done = (usage: unknown, prefix = "") =>
  JSON.stringify({ ...(prefix ? { event_id: prefix } : {}), type: "response.done", response: { id: "resp_1", usage } });

test("sums input/output tokens and their text/audio details over response.done events", () => {
  const usage = new SessionUsage();
  const first = usage.observe(
    done(
      {
        total_tokens: 30,
        input_tokens: 10,
        output_tokens: 20,
        input_token_details: { text_tokens: 4, audio_tokens: 6, cached_tokens: 2 },
        output_token_details: { text_tokens: 5, audio_tokens: 15 },
      },
      "event_abc123",
    ),
  );
  expect(first).toEqual({ input: 10, output: 20, cached: 2 });
  usage.observe(done({ input_tokens: 1, output_tokens: 2 }));
  expect(usage.responses).toBe(2);
  expect(usage.totals()).toEqual({
    input_tokens: 11,
    output_tokens: 22,
    input_text_tokens: 4,
    input_audio_tokens: 6,
    cached_tokens: 2,
    output_text_tokens: 5,
    output_audio_tokens: 15,
  });
});

test("ignores other events, a response.done far inside a delta, and broken JSON", () => {
  const usage = new SessionUsage();
  expect(usage.observe(JSON.stringify({ type: "response.output_text.delta", delta: `${"x".repeat(500)}"response.done"` }))).toBeUndefined();
  expect(usage.observe('{"type":"response.done", broken')).toBeUndefined();
  expect(usage.observe(JSON.stringify({ type: "response.done", response: {} }))).toBeUndefined();
  expect(usage.responses).toBe(0);
});
