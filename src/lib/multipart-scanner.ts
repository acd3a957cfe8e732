/**
 * Finds the parts of a multipart/form-data stream (RFC 7578) as bytes go by, keeping nothing
 * but the current part's headers, a small look-behind and the (small) text fields: file
 * contents are only counted, so a 25 MB upload costs the same memory as a 25-byte one. It
 * reports each part's name, filename, content type and byte offsets; the caller keeps the bytes
 * (see Spool).
 *
 * Its cost is linear in the body whatever the body's shape (issue 10): unresolved bytes live in
 * one growable buffer read through an offset, so a delimiter or a part costs no copy of what
 * follows it; a header block split across many small reads is searched from where the last
 * search stopped; and the number of parts is bounded (`maxParts`).
 */
import { concatBytes } from "./bytes.ts";
export interface PartInfo {
  readonly name: string;
  readonly filename: string | null;
  readonly contentType: string | null;
  /** Offsets of the part's content in the whole body: [start, end). */
  readonly start: number;
  readonly end: number;
  /** The content of a part without a filename (a text field); null for files. */
  readonly text: Uint8Array | null;
}

export interface ScannerOptions {
  /** Each part as it ends; given, parts are not kept in `parts` (a form of many parts is then garbage part by part). */
  readonly onPart?: (part: PartInfo) => void;
  /** Parts allowed in one form; one more is a `TooManyPartsError`. */
  readonly maxParts?: number;
  /** Largest text field (a part without a filename) kept; a bigger one is a `TextFieldTooLargeError`. */
  readonly maxTextBytes?: number;
}

const HEADER_END = new TextEncoder().encode("\r\n\r\n");
const MAX_HEADER_BYTES = 16 * 1024;
const SLICE = 64 * 1024;
const decoder = new TextDecoder();

interface OpenPart {
  readonly name: string;
  readonly filename: string | null;
  readonly contentType: string | null;
  readonly start: number;
  /** Pieces of a text field's content, copied once as they go by. */
  readonly text: Uint8Array[] | null;
  textSize: number;
}

export class MultipartScanner {
  private readonly delimiter: Uint8Array;
  private readonly maxParts: number;
  private readonly maxTextBytes: number;
  /** Unresolved bytes are buffer[head, tail); buffer[0] is at absolute offset `base` of the body. */
  private buffer: Uint8Array;
  private head = 0;
  private tail: number;
  private base = -2;
  /** Absolute offset where the search for the end of a header block resumes. */
  private headerSearchFrom = 0;
  private state: "preamble" | "headers" | "content" | "epilogue" = "preamble";
  private current: OpenPart | null = null;
  private count = 0;
  private readonly onPart: (part: PartInfo) => void;
  /** The parts found so far, unless an `onPart` takes them. */
  readonly parts: PartInfo[] = [];

  constructor(boundary: string, { maxParts = Infinity, maxTextBytes = Infinity, onPart }: ScannerOptions = {}) {
    this.onPart = onPart ?? ((part) => void this.parts.push(part));
    this.delimiter = new TextEncoder().encode(`\r\n--${boundary}`);
    this.maxParts = maxParts;
    this.maxTextBytes = maxTextBytes;
    // The first delimiter has no leading CRLF; pretend the body starts with one.
    this.buffer = new Uint8Array(64 * 1024);
    this.buffer[0] = 13;
    this.buffer[1] = 10;
    this.tail = 2;
  }

  get complete(): boolean {
    return this.state === "epilogue";
  }

  push(chunk: Uint8Array): void {
    // in slices, so one huge read never makes the look-behind buffer grow to twice its size
    for (let at = 0; at < chunk.byteLength; at += SLICE) this.pushSlice(chunk.subarray(at, at + SLICE));
  }

  private pushSlice(chunk: Uint8Array): void {
    if (this.state === "epilogue") return;
    this.append(chunk);
    // one view per read: bytes past `tail` are stale, and a subarray per search costs more than the search
    const buffer = this.buffer.subarray(0, this.tail);
    const dlen = this.delimiter.byteLength;
    let pos = this.head;
    for (;;) {
      if (this.state === "epilogue") {
        pos = this.tail;
        break;
      }
      if (this.state === "headers") {
        const end = indexOf(buffer, HEADER_END, Math.max(pos, this.headerSearchFrom - this.base));
        if (end === -1) {
          if (this.tail - pos > MAX_HEADER_BYTES) throw new MultipartError("a part's headers are too long");
          // the last 3 bytes may still begin the blank line
          this.headerSearchFrom = this.base + Math.max(pos, this.tail - (HEADER_END.byteLength - 1));
          break;
        }
        if (end - pos > MAX_HEADER_BYTES) throw new MultipartError("a part's headers are too long");
        const { name, filename, contentType } = parseHeaders(decoder.decode(buffer.subarray(pos, end)));
        this.current = { name, filename, contentType, start: this.base + end + 4, text: filename === null ? [] : null, textSize: 0 };
        pos = end + 4;
        this.state = "content";
        continue;
      }
      // preamble or content: look for the next delimiter plus the 2 bytes after it
      const at = indexOf(buffer, this.delimiter, pos);
      if (at === -1 || at + dlen + 2 > this.tail) {
        // keep what could still be the start of a delimiter
        const keepFrom = at === -1 ? Math.max(pos, this.tail - (dlen + 1)) : at;
        this.takeContent(pos, keepFrom);
        pos = keepFrom;
        break;
      }
      this.takeContent(pos, at);
      if (this.state === "content" && this.current) this.closePart(this.base + at);
      const after = at + dlen;
      const closing = buffer[after] === 45 && buffer[after + 1] === 45; // "--"
      pos = after + 2;
      if (closing) {
        this.state = "epilogue";
      } else {
        if (this.count >= this.maxParts) throw new TooManyPartsError(this.maxParts);
        this.state = "headers";
        this.headerSearchFrom = this.base + pos;
      }
    }
    this.head = pos;
  }

  /** chunk after the unresolved bytes: moved to the front or into a bigger buffer only when full, so each byte is copied O(1) times. */
  private append(chunk: Uint8Array): void {
    const unresolved = this.tail - this.head;
    if (this.tail + chunk.byteLength > this.buffer.byteLength) {
      const needed = unresolved + chunk.byteLength;
      const target = needed * 2 > this.buffer.byteLength ? new Uint8Array(Math.max(needed * 2, this.buffer.byteLength)) : this.buffer;
      target.set(this.buffer.subarray(this.head, this.tail), 0);
      this.buffer = target;
      this.base += this.head;
      this.head = 0;
      this.tail = unresolved;
    }
    this.buffer.set(chunk, this.tail);
    this.tail += chunk.byteLength;
  }

  /** Content bytes buffer[from, to) of the open part: counted, and copied for a text field. */
  private takeContent(from: number, to: number): void {
    const part = this.current;
    if (to <= from || this.state !== "content" || part === null || part.text === null) return;
    part.textSize += to - from;
    if (part.textSize > this.maxTextBytes) throw new TextFieldTooLargeError(part.name, this.maxTextBytes);
    part.text.push(this.buffer.slice(from, to));
  }

  private closePart(end: number): void {
    const { name, filename, contentType, start, text } = this.current!;
    this.current = null;
    this.count++;
    this.onPart({ name, filename, contentType, start, end, text: text === null ? null : concatBytes(text) });
  }
}

export class MultipartError extends Error {}

export class TooManyPartsError extends MultipartError {
  constructor(readonly maxParts: number) {
    super(`the form has more than ${maxParts} parts`);
  }
}

export class TextFieldTooLargeError extends MultipartError {
  constructor(
    readonly field: string,
    readonly maxBytes: number,
  ) {
    super(`the form field '${field}' is larger than ${maxBytes} bytes`);
  }
}

const NAME_PARAM = /(?:^|;)\s*name\*?\s*=/gi;

function parseHeaders(text: string): { name: string; filename: string | null; contentType: string | null } {
  let name: string | null = null;
  let filename: string | null = null;
  let contentType: string | null = null;
  // by offsets, not split/trim per line: this runs once per part, and a form may have many
  for (let at = 0; at < text.length; ) {
    let eol = text.indexOf("\r\n", at);
    if (eol === -1) eol = text.length;
    const colon = text.indexOf(":", at);
    if (colon !== -1 && colon < eol) {
      const key = headerName(text, at, colon);
      if (key === "content-type") contentType = text.slice(colon + 1, eol).trim();
      else if (key === "content-disposition") {
        const value = text.slice(colon + 1, eol);
        // one name, said one way: a parser that reads `name*=` (RFC 2231), the last name or the
        // other header would see another field (another `model`) than the one checked here
        if (name !== null || (value.match(NAME_PARAM) ?? []).length > 1) throw new MultipartError("a part names itself more than once");
        name = /(?:^|;)\s*name="((?:[^"\\]|\\.)*)"/i.exec(value)?.[1] ?? /(?:^|;)\s*name=([^;\s]+)/i.exec(value)?.[1] ?? null;
        filename = /(?:^|;)\s*filename="((?:[^"\\]|\\.)*)"/i.exec(value)?.[1] ?? null;
      }
    }
    at = eol + 2;
  }
  if (name === null) throw new MultipartError("a part has no name in its Content-Disposition");
  return { name, filename, contentType };
}

/** The two header names we read, lower-cased; null for any other (compared by length first). */
function headerName(text: string, from: number, to: number): "content-type" | "content-disposition" | null {
  while (to > from && text.charCodeAt(to - 1) <= 32) to--;
  while (from < to && text.charCodeAt(from) <= 32) from++;
  const length = to - from;
  if (length === 12 && text.slice(from, to).toLowerCase() === "content-type") return "content-type";
  if (length === 19 && text.slice(from, to).toLowerCase() === "content-disposition") return "content-disposition";
  return null;
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
