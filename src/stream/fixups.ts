/**
 * Per-event fixes for Azure's chat and completions streams, for clients that expect OpenAI's
 * stream exactly. Azure adds chunks OpenAI never sends (azure-contract.md §3.6):
 * - the prompt-filter chunk: `choices: []` with no `usage` (crashes clients that read
 *   `choices[0]`: semantic-kernel#3650, llama_index#7640, litellm#14298, ...);
 * - async-filter annotation chunks whose choices have no `delta` (or no `text`), one of them
 *   after the finish chunk (openai-python#1677, autogen#6465).
 * Both are dropped. The usage chunk (`choices: []` *with* usage) is OpenAI's too, and is kept;
 * so are errors, `[DONE]` and everything else, byte for byte.
 *
 * Cost: content chunks, nearly all of a stream, are recognised from their bytes with two
 * substring checks on the decoded event; only the rare candidates are JSON-parsed.
 */
const decoder = new TextDecoder();

export type EventFilter = (event: Uint8Array) => boolean;

/** Keep-or-drop for one complete SSE event of a stream whose choices carry `field`. */
export function annotationChunkFilter(field: "delta" | "text"): EventFilter {
  const fieldKey = `"${field}":`;
  return (event) => {
    const text = decoder.decode(event);
    if (!text.includes('"choices":[]') && text.includes(fieldKey)) return true;
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
  };
}

function dataOf(event: string): string | null {
  const lines = event.split(/\r?\n/).filter((l) => l.startsWith("data:"));
  if (lines.length === 0) return null;
  return lines.map((l) => l.slice(l[5] === " " ? 6 : 5)).join("\n");
}
