import { describe, expect, test } from "bun:test";
import { usageInBody } from "./usage.ts";

const bytes = (text: string) => new TextEncoder().encode(text).buffer as ArrayBuffer;
const USAGE = '"usage":{"completion_tokens":29,"prompt_tokens":26,"prompt_tokens_details":{"cached_tokens":8},"total_tokens":55}}';

describe("usageInBody", () => {
  test("reads Azure's usage object at the end of a JSON body", () => {
    expect(usageInBody(bytes(`{"choices":[],${USAGE}`))).toEqual({ prompt: 26, completion: 29, cached: 8 });
  });

  test("the last usage object counts, not one quoted in the answer's text (which JSON escapes anyway)", () => {
    const body = `{"choices":[{"message":{"content":"\\"usage\\":{\\"prompt_tokens\\":1}"}}],"x":{"usage":{"prompt_tokens":2,"completion_tokens":3}},${USAGE}`;
    expect(usageInBody(bytes(body))).toEqual({ prompt: 26, completion: 29, cached: 8 });
  });

  test("multi-byte text before it, and a body longer than the searched tail", () => {
    const long = `{"choices":[{"message":{"content":"${"日本語 ".repeat(8000)}"}}],${USAGE}`;
    expect(bytes(long).byteLength).toBeGreaterThan(40_000);
    expect(usageInBody(bytes(long))).toEqual({ prompt: 26, completion: 29, cached: 8 });
  });

  test("no usage object: nothing", () => {
    expect(usageInBody(bytes('{"data":[{"embedding":[0.1]}]}'))).toBeUndefined();
    expect(usageInBody(new ArrayBuffer(0))).toBeUndefined();
  });

  test("a usage object further from the end than 16 KiB is not looked for (a body is never searched whole)", () => {
    const body = `{${USAGE.slice(0, -1)},"data":"${"x".repeat(20_000)}"}`;
    expect(usageInBody(bytes(body))).toBeUndefined();
  });
});
