import { describe, expect, test } from "bun:test";
import { answeredWithoutUsage, unansweredCharge } from "./metering.ts";
import { CHAT_COMPLETIONS, EMBEDDINGS, RESPONSE_GET, RESPONSES, V1_RESOURCE } from "./operations.ts";

const json = (chars: number) => ({ kind: "json" as const, text: "x".repeat(chars) });

describe("metering (the operation table's meter column)", () => {
  test("a client that left before the answer is charged its prompt's estimate, 4 characters a token", () => {
    expect(unansweredCharge({ operation: CHAT_COMPLETIONS, body: json(400) })).toEqual({ prompt: 100, completion: 0 });
    expect(unansweredCharge({ operation: EMBEDDINGS, body: json(40) })).toEqual({ prompt: 10, completion: 0 });
  });

  test("a whole answer without usage is charged only where it may be unfinished work (a queued background response)", () => {
    expect(answeredWithoutUsage({ operation: RESPONSES, body: json(80) })).toEqual({ prompt: 20, completion: 0 });
    expect(answeredWithoutUsage({ operation: CHAT_COMPLETIONS, body: json(80) })).toBeUndefined();
  });

  test("calls without a model (stored objects, v1 resources) and bodies that are not JSON are never charged", () => {
    expect(unansweredCharge({ operation: RESPONSE_GET, body: json(80) })).toBeUndefined();
    expect(unansweredCharge({ operation: V1_RESOURCE, body: json(80) })).toBeUndefined();
    expect(unansweredCharge({ operation: CHAT_COMPLETIONS, body: { kind: "none" } })).toBeUndefined();
  });
});
