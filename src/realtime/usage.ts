/**
 * Token usage from a Realtime session's `response.done` events (OpenAI Realtime reference:
 * `response.usage` with input/output tokens and their text/audio/cached details; the same on
 * Azure's GA and preview paths). Only frames that can be one are parsed: the event type stands
 * in the first bytes of every server event, so most frames (audio deltas, often tens of KB)
 * cost one short backward search.
 */
const DONE = '"response.done"';
/** `{"type":"response.done"` or `{"event_id":"event_…","type":"response.done"`: well inside this. */
const TYPE_WITHIN = 160;

export interface ResponseTokens {
  readonly input: number;
  readonly output: number;
  /** The share of `input` served from the prompt cache. */
  readonly cached: number;
}

interface Totals {
  input_tokens: number;
  output_tokens: number;
  input_text_tokens: number;
  input_audio_tokens: number;
  cached_tokens: number;
  output_text_tokens: number;
  output_audio_tokens: number;
}

export class SessionUsage {
  responses = 0;
  private readonly sum: Totals = {
    input_tokens: 0,
    output_tokens: 0,
    input_text_tokens: 0,
    input_audio_tokens: 0,
    cached_tokens: 0,
    output_text_tokens: 0,
    output_audio_tokens: 0,
  };

  /** The tokens of one `response.done`, or undefined for any other frame. */
  observe(text: string): ResponseTokens | undefined {
    if (text.lastIndexOf(DONE, TYPE_WITHIN) === -1) return undefined;
    let event: { type?: unknown; response?: { usage?: Record<string, unknown> } };
    try {
      event = JSON.parse(text);
    } catch {
      return undefined;
    }
    const usage = event.type === "response.done" ? event.response?.usage : undefined;
    if (!usage || typeof usage !== "object") return undefined;
    const n = (v: unknown) => (typeof v === "number" && Number.isFinite(v) && v > 0 ? v : 0);
    const inDetails = (usage.input_token_details ?? {}) as Record<string, unknown>;
    const outDetails = (usage.output_token_details ?? {}) as Record<string, unknown>;
    const tokens = { input: n(usage.input_tokens), output: n(usage.output_tokens), cached: n(inDetails.cached_tokens) };
    this.responses++;
    this.sum.input_tokens += tokens.input;
    this.sum.output_tokens += tokens.output;
    this.sum.input_text_tokens += n(inDetails.text_tokens);
    this.sum.input_audio_tokens += n(inDetails.audio_tokens);
    this.sum.cached_tokens += tokens.cached;
    this.sum.output_text_tokens += n(outDetails.text_tokens);
    this.sum.output_audio_tokens += n(outDetails.audio_tokens);
    return tokens;
  }

  totals(): Readonly<Totals> {
    return this.sum;
  }
}
