/**
 * Per-event work on Azure's chat and completions streams, one decode per event:
 * - fix-ups for clients that expect OpenAI's stream exactly. Azure adds chunks OpenAI never
 *   sends (docs/azure.md §3.6): the prompt-filter chunk, `choices: []` with no `usage`
 *   (crashes clients that read `choices[0]`: semantic-kernel#3650, llama_index#7640,
 *   litellm#14298), and async-filter annotation chunks whose choices have no `delta` (or `text`),
 *   one after the finish chunk (openai-python#1677, autogen#6465). Both are dropped;
 * - the usage tap: token counts from the usage chunk (or the Responses API's completed event);
 * - when the proxy asked for usage on the client's behalf (`stream_options.include_usage`, for
 *   metering), the usage chunk and the `"usage":null` Azure then adds to every chunk are removed,
 *   so the client gets the stream it asked for.
 * Everything else (errors, `[DONE]`, unknown fields) passes byte for byte.
 *
 * Cost: content chunks, nearly all of a stream, are judged from substring checks on the decoded
 * event; only rare candidates are JSON-parsed (bench/fixups.ts measures it).
 */
import type { Usage } from "./usage.ts";
import { usageIn } from "./usage.ts";
import type { StreamedText } from "./usage-estimate.ts";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** One complete SSE event in, the event to send (or null to drop it) out. */
export type EventTransform = (event: Uint8Array) => Uint8Array | null;

export interface StreamTapOptions {
  /** Drop annotation-only chunks whose choices lack this field; null: no fix-ups. */
  readonly dropAnnotationsWithout: "delta" | "text" | null;
  readonly onUsage?: (usage: Usage) => void;
  /** The proxy added `stream_options.include_usage`: take the usage back out. */
  readonly usageInjected: boolean;
  /** Counts the streamed text until Azure's usage arrives, for an estimate if it never does. */
  readonly text?: StreamedText;
}

export function streamTransform({ dropAnnotationsWithout, onUsage, usageInjected, text: streamed }: StreamTapOptions): EventTransform | undefined {
  if (dropAnnotationsWithout === null && !onUsage && !usageInjected && !streamed) return undefined;
  let usageSeen = false;
  return (event) => {
    const text = decoder.decode(event);
    const hasUsage = text.includes('"usage":{');
    if (hasUsage && onUsage) {
      const usage = usageIn(text);
      if (usage) {
        onUsage(usage);
        usageSeen = true;
      }
    }
    if (streamed && !usageSeen) streamed.add(text);
    if (dropAnnotationsWithout !== null && !keepChunk(text, dropAnnotationsWithout)) return null;
    if (usageInjected) {
      if (hasUsage && text.includes('"choices":[]')) return null;
      const stripped = text.replace(USAGE_NULL, "}$1");
      if (stripped !== text) return encoder.encode(stripped);
    }
    return event;
  };
}

// Azure sorts keys, so `usage` closes the chunk's JSON: `,"usage":null}` then the line's end
const USAGE_NULL = /,"usage":null\}(\r?\n)/;

/** Whether a chunk is one OpenAI would send (see the file's comment). */
export function keepChunk(text: string, field: "delta" | "text"): boolean {
  if (!text.includes('"choices":[]') && text.includes(`"${field}":`)) return true;
  const data = dataOf(text);
  if (data === null || data === "[DONE]") return true;
  let chunk: { choices?: unknown; usage?: unknown; error?: unknown };
  try {
    chunk = JSON.parse(data);
  } catch {
    return true; // not ours to judge: pass it on as it came
  }
  if (chunk.error !== undefined || !Array.isArray(chunk.choices)) return true;
  if (chunk.choices.length === 0) return chunk.usage !== undefined && chunk.usage !== null;
  return chunk.choices.some((choice) => choice !== null && typeof choice === "object" && field in choice);
}

function dataOf(event: string): string | null {
  const lines = event.split(/\r?\n/).filter((l) => l.startsWith("data:"));
  if (lines.length === 0) return null;
  return lines.map((l) => l.slice(l[5] === " " ? 6 : 5)).join("\n");
}
