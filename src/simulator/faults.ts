/**
 * How a test asks the simulator for a fault: a directive anywhere in the request body, such as
 * `[sim status=429 retry_after=2]` inside a message. It travels through any client and through
 * the proxy untouched, so concurrent tests never share fault state. Several directives may
 * stand in one body; with several simulators behind one proxy, `on=NAME` aims a directive at the
 * simulator of that name (the others ignore it).
 *
 *   status=N            answer N with Azure's body for it (429 with retry headers, 500, 503, ...)
 *   retry_after=S       429: `retry-after` seconds (default 1); retry_after_ms=MS: `retry-after-ms`
 *   filter=prompt       400 prompt content filter (images: their own contentFilter body)
 *   filter=output       chat/completions end with finish_reason content_filter; responses are
 *                       `incomplete`; images are the 400 "Generated image was filtered"
 *   first_byte_ms=MS    wait before answering at all
 *   chunk_ms=MS         pause between stream events (default 1)
 *   stall_after=K stall_ms=MS   pause MS after K events
 *   reset_after=K       cut the connection after K events (no terminating chunk)
 *   error_after=K       after K events send Azure's in-stream error event, then [DONE]
 *   truncate_after=K    end the stream cleanly after K events, without [DONE]
 *   reply=TEXT          the answer text (underscores become spaces)
 *   no_prompt_chunk=1   omit the leading prompt-filter chunk (seen in real traffic)
 *   async_filter=1      chat stream in Asynchronous Filter mode: annotation chunks without
 *                       `delta` between content chunks and one after the finish chunk (§3.5)
 *   split=0             write each event in one piece (default: split inside a UTF-8 character)
 *   background_ms=MS    Responses `background: true`: how long it stays queued (default 1000)
 *
 * Every operation with a body honours status, filter=prompt and first_byte_ms (a GET or DELETE
 * has no body, so it cannot carry a directive); streamed ones (chat, completions, responses,
 * audio/speech) also the stream faults. A binary stream (audio/speech) cannot carry an error
 * event, so there error_after cuts the connection like reset_after. The body is searched as text,
 * so a directive works in a JSON field and in a multipart text field such as `prompt`.
 */
export interface Faults {
  status?: number;
  retryAfter?: number;
  retryAfterMs?: number;
  filter?: "prompt" | "output";
  firstByteMs?: number;
  chunkMs: number;
  stallAfter?: number;
  stallMs?: number;
  resetAfter?: number;
  errorAfter?: number;
  truncateAfter?: number;
  reply?: string;
  noPromptChunk: boolean;
  asyncFilter: boolean;
  split: boolean;
  backgroundMs: number;
}

const DIRECTIVE_ALL = /\[sim ([^\]]*)\]/g;

export function faultsIn(bodyText: string, simulatorName?: string): Faults {
  const pairs = new Map<string, string>();
  for (const match of bodyText.matchAll(DIRECTIVE_ALL)) {
    const directive = new Map<string, string>();
    for (const part of match[1]!.trim().split(/\s+/)) {
      const eq = part.indexOf("=");
      if (eq > 0) directive.set(part.slice(0, eq), part.slice(eq + 1));
    }
    const target = directive.get("on");
    if (target !== undefined && target !== simulatorName) continue;
    for (const [k, v] of directive) pairs.set(k, v);
  }
  const num = (key: string) => (pairs.has(key) ? Number(pairs.get(key)) : undefined);
  const filter = pairs.get("filter");
  return {
    status: num("status"),
    retryAfter: num("retry_after"),
    retryAfterMs: num("retry_after_ms"),
    filter: filter === "prompt" || filter === "output" ? filter : undefined,
    firstByteMs: num("first_byte_ms"),
    chunkMs: num("chunk_ms") ?? 1,
    stallAfter: num("stall_after"),
    stallMs: num("stall_ms"),
    resetAfter: num("reset_after"),
    errorAfter: num("error_after"),
    truncateAfter: num("truncate_after"),
    reply: pairs.get("reply")?.replaceAll("_", " "),
    noPromptChunk: pairs.get("no_prompt_chunk") === "1",
    asyncFilter: pairs.get("async_filter") === "1",
    split: pairs.get("split") !== "0",
    backgroundMs: num("background_ms") ?? 1000,
  };
}
