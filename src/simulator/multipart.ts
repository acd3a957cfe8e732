/**
 * A minimal multipart/form-data reader for the recorder. The platform's `formData()` is used to
 * serve requests, but it rewrites part metadata (Bun turns a declared `audio/wav` into
 * `audio/x-wav`), and a test checking what a proxy forwarded needs the part headers as sent.
 * Deliberately independent of src/lib/multipart-scanner.ts: this is the oracle for what the
 * proxy's scanner forwarded, and a shared parser would share (and hide) its bugs.
 */
export interface Part {
  name: string;
  /** Present when the part is a file (its Content-Disposition has a filename). */
  filename?: string;
  contentType?: string;
  data: Uint8Array<ArrayBuffer>;
}

export function boundaryOf(contentType: string): string | undefined {
  const match = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return match?.[1] ?? match?.[2];
}

/** The parts in order; undefined when the body is not well-formed multipart. */
export function parseMultipart(body: Uint8Array<ArrayBuffer>, boundary: string): Part[] | undefined {
  const encoder = new TextEncoder();
  const delimiter = encoder.encode(`--${boundary}`);
  const nextDelimiter = encoder.encode(`\r\n--${boundary}`);
  const headerEnd = encoder.encode("\r\n\r\n");
  const latin1 = new TextDecoder("latin1");
  const parts: Part[] = [];
  let at = indexOf(body, delimiter, 0);
  if (at < 0) return undefined;
  at += delimiter.length;
  for (;;) {
    if (body[at] === 0x2d && body[at + 1] === 0x2d) return parts; // closing "--"
    if (body[at] !== 0x0d || body[at + 1] !== 0x0a) return undefined;
    const headersEnd = indexOf(body, headerEnd, at + 2);
    if (headersEnd < 0) return undefined;
    const headers = latin1.decode(body.subarray(at + 2, headersEnd));
    const end = indexOf(body, nextDelimiter, headersEnd + 4);
    if (end < 0) return undefined;
    const disposition = /^content-disposition:(.*)$/im.exec(headers)?.[1] ?? "";
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1];
    if (name === undefined) return undefined;
    const filename = /\bfilename="([^"]*)"/i.exec(disposition)?.[1];
    const contentType = /^content-type:\s*(.*?)\s*$/im.exec(headers)?.[1];
    parts.push({
      // header bytes are UTF-8 in practice (browsers, undici, the openai SDKs)
      name: utf8(name),
      ...(filename !== undefined ? { filename: utf8(filename) } : {}),
      ...(contentType !== undefined ? { contentType } : {}),
      data: body.subarray(headersEnd + 4, end),
    });
    at = end + nextDelimiter.length;
  }
}

function utf8(latin1Text: string): string {
  return new TextDecoder().decode(Uint8Array.from(latin1Text, (c) => c.charCodeAt(0)));
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0]!;
  const last = haystack.length - needle.length;
  for (let i = haystack.indexOf(first, from); i !== -1 && i <= last; i = haystack.indexOf(first, i + 1)) {
    let j = 1;
    while (j < needle.length && haystack[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}
