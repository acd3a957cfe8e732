import { describe, expect, test } from "bun:test";
import { keepChunk, streamTransform } from "./fixups.ts";
import type { Usage } from "./usage.ts";
import { StreamedText } from "./usage-estimate.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const event = (data: string) => encoder.encode(`data: ${data}\n\n`);
const text = (bytes: Uint8Array | null) => (bytes === null ? null : decoder.decode(bytes));

// Azure's chunks, as in docs/azure.md §3.2 and §3.5
const PROMPT_FILTER = '{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0}]}';
const CONTENT = '{"choices":[{"delta":{"content":"Hi"},"index":0}],"id":"c1","object":"chat.completion.chunk"}';
const ANNOTATION = '{"choices":[{"content_filter_results":{},"index":0}],"id":"","object":""}';
const USAGE = '{"choices":[],"id":"c1","usage":{"completion_tokens":5,"prompt_tokens":7,"total_tokens":12}}';
const ERROR = '{"error":{"message":"boom","code":"server_error"}}';

describe("keepChunk", () => {
  test("drops what OpenAI never sends: the prompt-filter chunk and annotation-only chunks", () => {
    expect(keepChunk(`data: ${PROMPT_FILTER}\n\n`, "delta")).toBe(false);
    expect(keepChunk(`data: ${ANNOTATION}\n\n`, "delta")).toBe(false);
  });

  test("keeps content, usage, errors, [DONE] and what it cannot parse", () => {
    for (const data of [CONTENT, USAGE, ERROR, "[DONE]", "{not json"]) expect(keepChunk(`data: ${data}\n\n`, "delta")).toBe(true);
  });

  test("judges by the operation's field: a completions chunk has `text`, not `delta`", () => {
    const completion = '{"choices":[{"text":"Hi","index":0}],"object":"text_completion"}';
    expect(keepChunk(`data: ${completion}\n\n`, "text")).toBe(true);
    expect(keepChunk(`data: ${completion}\n\n`, "delta")).toBe(false);
  });
});

describe("streamTransform", () => {
  test("nothing to do: no transform at all, so the relay passes bytes through", () => {
    expect(streamTransform({ dropAnnotationsWithout: null, usageInjected: false })).toBeUndefined();
  });

  test("with fix-ups, content passes byte for byte and Azure's extra chunks are dropped", () => {
    const transform = streamTransform({ dropAnnotationsWithout: "delta", usageInjected: false })!;
    const content = event(CONTENT);
    expect(transform(content)).toBe(content);
    expect(transform(event(PROMPT_FILTER))).toBeNull();
    expect(transform(event(ANNOTATION))).toBeNull();
    expect(text(transform(event("[DONE]")))).toBe("data: [DONE]\n\n");
  });

  test("the usage event is reported; when the proxy asked for it, it and Azure's `usage:null` are taken out", () => {
    const seen: Usage[] = [];
    const transform = streamTransform({ dropAnnotationsWithout: null, usageInjected: true, onUsage: (u) => seen.push(u) })!;
    expect(text(transform(encoder.encode(`data: ${CONTENT.replace(/}$/, ',"usage":null}')}\n\n`)))).toBe(`data: ${CONTENT}\n\n`);
    expect(transform(event(USAGE))).toBeNull();
    expect(seen).toEqual([{ prompt: 7, completion: 5 }]);
  });

  test("Azure's `usage:null` comes out of ASCII and non-ASCII chunks alike, with CRLF line ends, and nowhere else", () => {
    const transform = streamTransform({ dropAnnotationsWithout: null, usageInjected: true })!;
    const withNull = (data: string, end = "\n\n") => encoder.encode(`data: ${data.replace(/}$/, ',"usage":null}')}${end}`);
    const accented = CONTENT.replace("Hi", "Grüße, 世界 🎉");
    expect(text(transform(withNull(CONTENT, "\r\n\r\n")))).toBe(`data: ${CONTENT}\r\n\r\n`);
    expect(text(transform(withNull(accented)))).toBe(`data: ${accented}\n\n`);
    // inside a string (escaped quotes) it is the model's text, not Azure's field
    const quoted = encoder.encode(`data: ${CONTENT.replace("Hi", '\\",\\"usage\\":null}')}\n\n`);
    expect(transform(quoted)).toBe(quoted);
  });

  test("when the client asked for usage itself, its usage event reaches it", () => {
    const seen: Usage[] = [];
    const transform = streamTransform({ dropAnnotationsWithout: "delta", usageInjected: false, onUsage: (u) => seen.push(u) })!;
    expect(text(transform(event(USAGE)))).toBe(`data: ${USAGE}\n\n`);
    expect(seen).toHaveLength(1);
  });

  test("streamed text is counted until Azure's usage arrives, not after", () => {
    const streamed = new StreamedText(0, true);
    const transform = streamTransform({ dropAnnotationsWithout: null, usageInjected: false, onUsage: () => {}, text: streamed })!;
    transform(event('{"choices":[{"delta":{"content":"abcdefgh"},"index":0}]}'));
    expect(streamed.usage.completion).toBe(2);
    transform(event(USAGE));
    transform(event('{"choices":[{"delta":{"content":"abcdefghabcdefgh"},"index":0}]}'));
    expect(streamed.usage.completion).toBe(2);
  });
});
