/**
 * Finds the parts of a multipart/form-data stream (RFC 7578) as bytes go by, keeping nothing
 * but the current part's headers and a small look-behind: file contents are only counted, so a
 * 25 MB upload costs the same memory as a 25-byte one. It reports each part's name, filename,
 * content type and byte offsets; the caller keeps the bytes (see Spool) and reads back the
 * small text fields it needs.
 */
export interface PartInfo {
  readonly name: string;
  readonly filename: string | null;
  readonly contentType: string | null;
  /** Offsets of the part's content in the whole body: [start, end). */
  readonly start: number;
  readonly end: number;
}

const HEADER_END = new TextEncoder().encode("\r\n\r\n");
const MAX_HEADER_BYTES = 16 * 1024;

export class MultipartScanner {
  private readonly delimiter: Uint8Array;
  /** Unresolved bytes, starting at absolute offset `bufferStart` of the body. */
  private buffer: Uint8Array;
  private bufferStart: number;
  private state: "preamble" | "headers" | "content" | "epilogue" = "preamble";
  private current: Omit<PartInfo, "end"> | null = null;
  readonly parts: PartInfo[] = [];

  constructor(boundary: string) {
    this.delimiter = new TextEncoder().encode(`\r\n--${boundary}`);
    // The first delimiter has no leading CRLF; pretend the body starts with one.
    this.buffer = new Uint8Array([13, 10]);
    this.bufferStart = -2;
  }

  get complete(): boolean {
    return this.state === "epilogue";
  }

  push(chunk: Uint8Array): void {
    const merged = new Uint8Array(this.buffer.byteLength + chunk.byteLength);
    merged.set(this.buffer, 0);
    merged.set(chunk, this.buffer.byteLength);
    this.buffer = merged;
    for (;;) {
      if (this.state === "epilogue") {
        this.drop(this.buffer.byteLength);
        return;
      }
      if (this.state === "headers") {
        const end = indexOf(this.buffer, HEADER_END, 0);
        if (end === -1) {
          if (this.buffer.byteLength > MAX_HEADER_BYTES) throw new MultipartError("a part's headers are too long");
          return;
        }
        this.current = { ...parseHeaders(new TextDecoder().decode(this.buffer.subarray(0, end))), start: this.bufferStart + end + 4 };
        this.drop(end + 4);
        this.state = "content";
        continue;
      }
      // preamble or content: look for the next delimiter plus the 2 bytes after it
      const at = indexOf(this.buffer, this.delimiter, 0);
      if (at === -1 || at + this.delimiter.byteLength + 2 > this.buffer.byteLength) {
        // keep what could still be the start of a delimiter
        const keep = this.delimiter.byteLength + 1;
        const drop = at === -1 ? this.buffer.byteLength - keep : at;
        if (drop > 0) this.drop(drop);
        return;
      }
      if (this.state === "content" && this.current) this.parts.push({ ...this.current, end: this.bufferStart + at });
      this.current = null;
      const after = at + this.delimiter.byteLength;
      const closing = this.buffer[after] === 45 && this.buffer[after + 1] === 45; // "--"
      this.drop(after + 2);
      this.state = closing ? "epilogue" : "headers";
    }
  }

  private drop(count: number): void {
    this.buffer = this.buffer.slice(count);
    this.bufferStart += count;
  }
}

export class MultipartError extends Error {}

const NAME_PARAM = /(?:^|;)\s*name\*?\s*=/gi;

function parseHeaders(text: string): { name: string; filename: string | null; contentType: string | null } {
  let name: string | null = null;
  let filename: string | null = null;
  let contentType: string | null = null;
  for (const line of text.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon === -1) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (key === "content-type") contentType = value;
    if (key !== "content-disposition") continue;
    // one name, said one way: a parser that reads `name*=` (RFC 2231), the last name or the
    // other header would see another field (another `model`) than the one checked here
    if (name !== null || (value.match(NAME_PARAM) ?? []).length > 1) throw new MultipartError("a part names itself more than once");
    name = /(?:^|;)\s*name="((?:[^"\\]|\\.)*)"/i.exec(value)?.[1] ?? /(?:^|;)\s*name=([^;\s]+)/i.exec(value)?.[1] ?? null;
    filename = /(?:^|;)\s*filename="((?:[^"\\]|\\.)*)"/i.exec(value)?.[1] ?? null;
  }
  if (name === null) throw new MultipartError("a part has no name in its Content-Disposition");
  return { name, filename, contentType };
}

export function indexOf(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0]!;
  const last = haystack.byteLength - needle.byteLength;
  for (let i = haystack.indexOf(first, from); i !== -1 && i <= last; i = haystack.indexOf(first, i + 1)) {
    let j = 1;
    while (j < needle.byteLength && haystack[i + j] === needle[j]) j++;
    if (j === needle.byteLength) return i;
  }
  return -1;
}

/** The boundary parameter of a multipart/form-data content type, or null. */
export function boundaryOf(contentType: string | null): string | null {
  if (!contentType || !/^multipart\/form-data/i.test(contentType)) return null;
  const match = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return match ? (match[1] ?? match[2]!) : null;
}
