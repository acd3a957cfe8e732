/**
 * Token usage when Azure does not report it for a stream: dated API versions before
 * 2024-09-01 cannot send the usage chunk (stream_options is refused there, docs/azure.md
 * §1.5), and a stream that ends early (the client left, Azure broke) never gets to it. The
 * tokens were still spent, so the tokens-per-minute limit and the metrics count an estimate,
 * and the access log marks it `usage_estimated`:
 * - where Azure cannot report usage, completion tokens come from the streamed text (content,
 *   text, tool-call arguments, refusals, Responses' text deltas) at about 4 characters a token,
 *   OpenAI's rule of thumb for English (help.openai.com "What are tokens and how to count
 *   them"): one regex scan per event, ~250 ns for a content chunk (bench/fixups.ts);
 * - where it can (and only an early end keeps the usage away), one token per event: Azure
 *   streams about a token per chunk, and counting costs nothing on the hot path;
 * - prompt tokens from the request body's length at 4 characters a token, which over-counts by
 *   its JSON syntax. Each estimate errs towards the limit, never past it;
 * - a call that is not streamed and whose client left before the answer (so before Azure's
 *   usage) is charged its prompt: Azure had it, and bills it (`promptOnly`).
 */
import type { Usage } from "./usage.ts";

const CHARS_PER_TOKEN = 4;
const TEXT_VALUE = /"(?:content|text|arguments|refusal|delta)":"/g;

export class StreamedText {
  private chars = 0;
  private events = 0;

  /** `readText`: count characters (Azure will not report usage), else events. */
  constructor(
    private readonly promptChars: number,
    private readonly readText: boolean,
  ) {}

  /** Count one decoded SSE event. */
  add(event: string): void {
    this.events++;
    if (!this.readText) return;
    TEXT_VALUE.lastIndex = 0;
    while (TEXT_VALUE.exec(event) !== null) {
      const start = TEXT_VALUE.lastIndex;
      const end = stringEnd(event, start);
      this.chars += end - start;
      TEXT_VALUE.lastIndex = end;
    }
  }

  get usage(): Usage {
    const completion = this.readText ? Math.ceil(this.chars / CHARS_PER_TOKEN) : this.events;
    return { prompt: Math.ceil(this.promptChars / CHARS_PER_TOKEN), completion };
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

/** The prompt of a call whose answer, and so Azure's usage, never came: its estimate alone. */
export function promptOnly(promptChars: number): Usage {
  return { prompt: Math.ceil(promptChars / CHARS_PER_TOKEN), completion: 0 };
}
