import { describe, expect, test } from "bun:test";
import { StreamedText } from "./usage-estimate.ts";

describe("StreamedText", () => {
  test("where Azure reports usage (only an early end loses it), one token per event", () => {
    const text = new StreamedText(8, false);
    text.add('data: {"choices":[{"delta":{"content":"Hello there, this is long"}}]}\n\n');
    text.add('data: {"choices":[{"delta":{"content":"!"}}]}\n\n');
    expect(text.usage).toEqual({ prompt: 2, completion: 2 });
  });

  test("counts the streamed text of chat, completions, tool calls and Responses deltas, ~4 characters a token", () => {
    const text = new StreamedText(40, true);
    text.add('data: {"choices":[{"delta":{"content":"Hello there"},"index":0}],"id":"x"}\n\n');
    text.add('data: {"choices":[{"text":" world","index":0}]}\n\n');
    text.add('data: {"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"{\\"a\\":1}"}}]}}]}\n\n');
    text.add('event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"abcd"}\n\n');
    // 11 + 6 + 9 (the escaped arguments as sent) + 4 = 30 characters
    expect(text.usage).toEqual({ prompt: 10, completion: 8 });
  });

  test("an object-valued delta, ids and roles are not text", () => {
    const text = new StreamedText(0, true);
    text.add('data: {"choices":[{"delta":{"role":"assistant","content":""}}],"id":"chatcmpl-123","model":"gpt-4o"}\n\n');
    expect(text.usage).toEqual({ prompt: 0, completion: 0 });
  });
});
