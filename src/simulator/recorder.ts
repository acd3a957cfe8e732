/**
 * What the simulator received, so tests can assert what the proxy forwarded (URL, headers,
 * exact body) and whether the proxy went away mid-answer (its client aborted).
 */
export interface RecordedRequest {
  readonly seq: number;
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly headers: Record<string, string>;
  readonly bodyText: string;
  readonly receivedAt: number;
  /** The caller closed the connection before the answer was complete. */
  clientClosed: boolean;
  /** When it closed (ms since epoch). */
  clientClosedAt?: number;
  /** The simulator finished writing its answer. */
  completed: boolean;
}

export class Recorder {
  private readonly items: RecordedRequest[] = [];
  private seq = 0;
  private readonly waiters = new Set<() => void>();

  record(request: Request, url: URL, bodyText: string): RecordedRequest {
    const entry: RecordedRequest = {
      seq: ++this.seq,
      method: request.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: Object.fromEntries(request.headers),
      bodyText,
      receivedAt: Date.now(),
      clientClosed: false,
      completed: false,
    };
    this.items.push(entry);
    // bounded: a long demo run must not grow without limit
    if (this.items.length > 1000) this.items.shift();
    this.changed();
    return entry;
  }

  closed(entry: RecordedRequest): void {
    if (entry.completed || entry.clientClosed) return;
    entry.clientClosed = true;
    entry.clientClosedAt = Date.now();
    this.changed();
  }

  completed(entry: RecordedRequest): void {
    entry.completed = true;
    this.changed();
  }

  all(): readonly RecordedRequest[] {
    return this.items;
  }

  clear(): void {
    this.items.length = 0;
  }

  /** Resolves with the first entry matching `predicate`, now or when one changes. */
  waitFor(predicate: (r: RecordedRequest) => boolean, timeoutMs = 5000): Promise<RecordedRequest> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = this.items.find(predicate);
        if (!hit) return false;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(hit);
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`no recorded request matched within ${timeoutMs} ms`));
      }, timeoutMs);
      if (!check()) this.waiters.add(check);
    });
  }

  private changed(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
