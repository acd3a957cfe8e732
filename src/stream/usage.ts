/**
 * Token usage from Azure's answers, for metrics and the tokens-per-minute limit: the `usage`
 * object of a JSON body (chat, completions, embeddings: prompt/completion_tokens; Responses:
 * input/output_tokens), found in the body's tail, where Azure's alphabetically sorted keys put
 * it, so a long answer is never parsed whole.
 */
/** Tokens one answer used, as Azure counted them (or as the proxy estimated them). */
export interface Usage {
  prompt: number;
  completion: number;
  /** Prompt tokens Azure served from its prompt cache (part of `prompt`); absent: none reported. */
  cached?: number;
}

const PROMPT = /"(?:prompt_tokens|input_tokens)"\s*:\s*(\d+)/;
const COMPLETION = /"(?:completion_tokens|output_tokens)"\s*:\s*(\d+)/;
// prompt_tokens_details (chat) / input_tokens_details (Responses): the prompt cache's share
const CACHED = /"cached_tokens"\s*:\s*(\d+)/;

/** Usage from text containing a `"usage":{...}` object (a body's tail, or one SSE event). */
export function usageIn(text: string): Usage | undefined {
  const at = text.lastIndexOf('"usage":{');
  if (at === -1) return undefined;
  const rest = text.slice(at);
  const prompt = PROMPT.exec(rest);
  if (!prompt) return undefined;
  const cached = CACHED.exec(rest);
  const usage: Usage = { prompt: Number(prompt[1]), completion: Number(COMPLETION.exec(rest)?.[1] ?? 0) };
  if (cached) usage.cached = Number(cached[1]);
  return usage;
}

/** Keeps the last `size` characters of a body as it streams by. */
export class Tail {
  private text = "";
  private readonly decoder = new TextDecoder();

  constructor(private readonly size = 16 * 1024) {}

  push(chunk: Uint8Array): void {
    this.text = (this.text + this.decoder.decode(chunk, { stream: true })).slice(-this.size);
  }

  get value(): string {
    return this.text;
  }
}
