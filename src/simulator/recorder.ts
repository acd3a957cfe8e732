/**
 * What the simulator received, so tests can assert what the proxy forwarded (URL, headers,
 * exact body, uploaded files byte for byte via their SHA-256) and whether the proxy went away
 * mid-answer (its client aborted).
 *
 * Memory stays bounded: a 25 MB audio upload must not be kept 1000 times. The recorder keeps
 * hashes and sizes of every body and file, but at most BODY_TEXT_LIMIT characters of body text
 * per request and TEXT_BUDGET characters over all requests (oldest entries go first).
 */
export interface RecordedFile {
  /** The multipart field name (`file`, `image[]`, `mask`). */
  readonly name: string;
  readonly filename: string;
  readonly size: number;
  readonly sha256: string;
  readonly contentType: string;
}

export interface BodyDigest {
  /** Size of the raw request body in bytes. */
  bodySize: number;
  /** SHA-256 (hex) of the raw request body. */
  bodySha256: string;
  /** multipart/form-data only: the text fields (last value wins for repeated names). */
  fields?: Record<string, string>;
  /** multipart/form-data only: the file parts, without their bytes. */
  files?: RecordedFile[];
}

export interface RecordedRequest {
  readonly seq: number;
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly headers: Record<string, string>;
  /** The body decoded as UTF-8 (lossy for binary multipart), cut at BODY_TEXT_LIMIT characters. */
  readonly bodyText: string;
  /** bodyText was cut; bodySize and bodySha256 still describe the whole body. */
  readonly bodyTruncated: boolean;
  readonly bodySize: number;
  readonly bodySha256: string;
  readonly fields?: Record<string, string>;
  readonly files?: readonly RecordedFile[];
  readonly receivedAt: number;
  /** The caller closed the connection before the answer was complete. */
  clientClosed: boolean;
  /** When it closed (ms since epoch). */
  clientClosedAt?: number;
  /** The simulator finished writing its answer. */
  completed: boolean;
  /** Stream bytes written so far (a stream only pulls more when its reader takes them). */
  bytesWritten: number;
}

export const BODY_TEXT_LIMIT = 1024 * 1024;
const TEXT_BUDGET = 32 * 1024 * 1024;
const MAX_ENTRIES = 1000;

export class Recorder {
  private readonly items: RecordedRequest[] = [];
  private seq = 0;
  private textChars = 0;
  private readonly waiters = new Set<() => void>();

  record(request: Request, url: URL, bodyText: string, digest?: BodyDigest): RecordedRequest {
    const kept = bodyText.length > BODY_TEXT_LIMIT ? bodyText.slice(0, BODY_TEXT_LIMIT) : bodyText;
    const entry: RecordedRequest = {
      seq: ++this.seq,
      method: request.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: Object.fromEntries(request.headers),
      bodyText: kept,
      bodyTruncated: kept.length !== bodyText.length,
      bodySize: digest?.bodySize ?? new TextEncoder().encode(bodyText).length,
      bodySha256: digest?.bodySha256 ?? "",
      ...(digest?.fields ? { fields: digest.fields } : {}),
      ...(digest?.files ? { files: digest.files } : {}),
      receivedAt: Date.now(),
      clientClosed: false,
      completed: false,
      bytesWritten: 0,
    };
    this.items.push(entry);
    this.textChars += kept.length;
    // bounded: a long demo run, or many large uploads, must not grow without limit
    while (this.items.length > MAX_ENTRIES || (this.textChars > TEXT_BUDGET && this.items.length > 1)) {
      this.textChars -= this.items.shift()!.bodyText.length;
    }
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
    this.textChars = 0;
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
