/**
 * Token usage when Azure does not report it for a stream: dated API versions before
 * 2024-09-01 cannot send the usage chunk (stream_options is refused there, azure-contract.md
 * §3.2), and a stream that ends early (the client left, Azure broke) never gets to it. The
 * tokens were still spent, so the tokens-per-minute limit and the metrics count an estimate:
 * about 4 characters per token, OpenAI's rule of thumb for English text
 * (help.openai.com "What are tokens and how to count them"). Completion tokens come from the
 * streamed text (content, text, tool-call arguments, refusals, Responses' text deltas); prompt
 * tokens from the request body's length, which over-counts by its JSON syntax: an estimate
 * errs towards the limit, never past it. The access log marks such usage `usage_estimated`.
 *
 * Cost per event: a few native indexOf calls on the event's already decoded text.
 */
import type { Usage } from "../metrics/record.ts";

const CHARS_PER_TOKEN = 4;
const TEXT_KEYS = ['"content":"', '"text":"', '"arguments":"', '"refusal":"', '"delta":"'];

export class StreamedText {
  private chars = 0;

  constructor(private readonly promptChars: number) {}

  /** Count the text values in one decoded SSE event. */
  add(event: string): void {
    for (const key of TEXT_KEYS) {
      for (let at = event.indexOf(key); at !== -1; at = event.indexOf(key, at)) {
        const start = at + key.length;
        const end = stringEnd(event, start);
        this.chars += end - start;
        at = end;
      }
    }
  }

  get usage(): Usage {
    return { prompt: Math.ceil(this.promptChars / CHARS_PER_TOKEN), completion: Math.ceil(this.chars / CHARS_PER_TOKEN) };
  }
}

/** Index of the closing quote of a JSON string whose text starts at `from` (or the text's end). */
function stringEnd(s: string, from: number): number {
  for (let q = s.indexOf('"', from); q !== -1; q = s.indexOf('"', q + 1)) {
    let backslashes = 0;
    while (q - 1 - backslashes >= from && s.charCodeAt(q - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return q;
  }
  return s.length;
}
