/**
 * Reading one request body under the limits every body shares, JSON, forms and relayed
 * uploads alike:
 * - size (limits.max_body_bytes): a Content-Length over it is refused before reading, a body
 *   that grows past it is cut; 413;
 * - silence (timeouts.client_body_ms): a body that stops arriving is cut; 408. The server
 *   gives an in-flight request no idle timer of its own (see src/runtime/bun.ts), so without
 *   this a stalled upload would hold its spool forever;
 * - the bytes all bodies hold together (limits.max_spool_bytes, a ByteBudget): a body that
 *   would take more is refused before it is forwarded; 503 with retry-after.
 * Each refusal is answered while the client may still be sending: Bun and Deno both read and
 * discard the rest of a body the handler left, so the client reads the answer instead of
 * meeting a reset connection (measured in test/contract/request-bodies.test.ts).
 */
import type { Config } from "../config/schema.ts";
import { ByteBudget, type Claim } from "../lib/byte-budget.ts";
import { Failure } from "../lib/failure.ts";

export interface BodyLimits {
  readonly maxBytes: number;
  readonly silenceMs: number;
  readonly maxParts: number;
  readonly budget: ByteBudget;
}

/** Once per app: the budget is shared by every request this process serves. */
export function bodyLimitsOf(config: Config): BodyLimits {
  return {
    maxBytes: config.limits.max_body_bytes,
    silenceMs: config.timeouts.client_body_ms,
    maxParts: config.limits.max_form_parts,
    budget: new ByteBudget(config.limits.max_spool_bytes),
  };
}

/** What a client waits before it retries after a full spool: uploads in flight take seconds. */
const SPOOL_RETRY_AFTER_S = "5";
/**
 * Declared bodies up to this size are read in one `arrayBuffer()`: on Bun 1.4 a reader loop
 * halves the rate of small JSON requests (81k vs 35k req/s for 1.5 KB bodies, measured), and
 * a body this small is late by one deadline, not by a trickle.
 */
const WHOLE_READ_MAX = 64 * 1024;

export function tooLarge(limit: number): Failure {
  return new Failure("payload_too_large", `The request body is larger than this proxy accepts (${limit} bytes).`, { code: "request_too_large" });
}

/**
 * `connection: close`: the rest of a stalled body may never come, so the connection is not kept
 * for another request (Bun closes it at once; Deno keeps it until the client goes).
 */
function stalled(silenceMs: number): Failure {
  return new Failure("request_timeout", `The request body stopped arriving: nothing came for ${silenceMs} ms.`, {
    code: "request_timeout",
    headers: { connection: "close" },
  });
}

function spoolFull(): Failure {
  return new Failure("overloaded", "The proxy holds as many request bodies as it may (limits.max_spool_bytes); retry shortly.", {
    code: "spool_full",
    headers: { "retry-after": SPOOL_RETRY_AFTER_S },
  });
}

/**
 * Every chunk of the body to `sink`, under the limits, each byte counted on `claim`. `whole`:
 * a small body of declared length may come in one piece (JSON, which is parsed whole anyway).
 */
export async function readBody(
  request: Request,
  limits: BodyLimits,
  claim: Claim,
  sink: (chunk: Uint8Array) => void | Promise<void>,
  whole = false,
): Promise<void> {
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (declared > limits.maxBytes) throw tooLarge(limits.maxBytes);
  if (!request.body) return;
  // a declared body claims its whole length up front: refused before a byte is read
  if (declared > 0 && !claim.holdUpTo(declared)) throw spoolFull();
  if (whole && declared >= 0 && declared <= WHOLE_READ_MAX) {
    await sink(new Uint8Array(await withinSilence(request.arrayBuffer(), limits.silenceMs)));
    return;
  }
  const reader = request.body.getReader();
  const watch = new SilenceWatch(limits.silenceMs);
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), watch.silent]);
      if (done) return;
      watch.heard();
      size += value.byteLength;
      if (size > limits.maxBytes) throw tooLarge(limits.maxBytes);
      if (!claim.holdUpTo(size)) throw spoolFull();
      await sink(value);
    }
  } catch (error) {
    reader.cancel().catch(() => {});
    throw error;
  } finally {
    watch.stop();
  }
}

/** One timer per body, re-armed only when it fires: a chunk costs a clock read, not a timer. */
class SilenceWatch {
  readonly silent: Promise<never>;
  private last = performance.now();
  private timer: ReturnType<typeof setTimeout>;
  private fire!: (failure: Failure) => void;

  constructor(private readonly ms: number) {
    this.silent = new Promise<never>((_, reject) => (this.fire = reject));
    this.silent.catch(() => {});
    this.timer = setTimeout(this.check, ms);
  }

  heard(): void {
    this.last = performance.now();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  private check = (): void => {
    const quiet = performance.now() - this.last;
    if (quiet >= this.ms) this.fire(stalled(this.ms));
    else this.timer = setTimeout(this.check, this.ms - quiet);
  };
}

/** `work`, or the 408 when it has not settled within `ms`: one promise and one timer, no race. */
function withinSilence<T>(work: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(stalled(ms)), ms);
    // a read that fails after the deadline answered (the client leaves) rejects nobody's promise
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
