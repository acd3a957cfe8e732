import { describe, expect, test } from "bun:test";
import { Failure } from "../../lib/failure.ts";
import { checkChatMessages } from "./chat-messages.ts";

function paramOf(messages: Parameters<typeof checkChatMessages>[0]): string | null | undefined {
  try {
    checkChatMessages(messages);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(Failure);
    return (error as Failure).detail.param;
  }
}

describe("checkChatMessages", () => {
  test("system, developer, user and tool messages need content; null is no content", () => {
    for (const role of ["system", "developer", "user", "tool"]) {
      expect(
        paramOf([
          { role: "user", content: "hi" },
          { role, tool_call_id: "c" },
        ]),
      ).toBe("messages[1].content");
      expect(paramOf([{ role, content: null, tool_call_id: "c" }])).toBe("messages[0].content");
      expect(paramOf([{ role, content: "", tool_call_id: "c" }])).toBeUndefined();
    }
  });

  test("a tool message needs its tool_call_id", () => {
    expect(paramOf([{ role: "tool", content: "42" }])).toBe("messages[0].tool_call_id");
  });

  test("an assistant message needs content, tool_calls, function_call, audio or refusal", () => {
    expect(paramOf([{ role: "assistant" }])).toBe("messages[0].content");
    expect(paramOf([{ role: "assistant", content: null, tool_calls: [] }])).toBe("messages[0].content");
    expect(paramOf([{ role: "assistant", content: null, tool_calls: [{ id: "c", type: "function" }] }])).toBeUndefined();
    expect(paramOf([{ role: "assistant", function_call: { name: "f", arguments: "{}" } }])).toBeUndefined();
    expect(paramOf([{ role: "assistant", content: [{ type: "text", text: "x" }] }])).toBeUndefined();
    expect(paramOf([{ role: "assistant", content: null, audio: { id: "audio_1" } }])).toBeUndefined();
    expect(paramOf([{ role: "assistant", content: null, refusal: "no" }])).toBeUndefined();
    expect(paramOf([{ role: "assistant", content: null, audio: null, refusal: null }])).toBe("messages[0].content");
  });
});
