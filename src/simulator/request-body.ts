/**
 * Reads a request body once, as raw bytes, and derives everything the simulator needs from it:
 * the text (fault directives are searched there, and JSON is parsed from it), its SHA-256, and
 * for multipart/form-data the parsed form with a digest of every file part, so a test can check
 * that a proxy forwarded an upload byte for byte. Web-standard APIs only (runs under Bun and Deno).
 */
import { boundaryOf, parseMultipart } from "./multipart.ts";
import type { BodyDigest, RecordedFile } from "./recorder.ts";

export interface ReadBody {
  bytes: Uint8Array<ArrayBuffer>;
  text: string;
  digest: BodyDigest;
  /** Set when the body is multipart/form-data and parses. */
  form?: FormData;
}

export async function readBody(request: Request): Promise<ReadBody> {
  const bytes = new Uint8Array(await request.arrayBuffer());
  const text = new TextDecoder().decode(bytes);
  const digest: BodyDigest = { bodySize: bytes.length, bodySha256: await sha256Hex(bytes) };
  const contentType = request.headers.get("content-type") ?? "";
  if (!/^multipart\/form-data/i.test(contentType)) return { bytes, text, digest };

  let form: FormData | undefined;
  try {
    form = await new Response(bytes, { headers: { "content-type": contentType } }).formData();
  } catch {
    form = undefined;
  }
  // The recorded digest comes from the raw parts (multipart.ts says why), not from `form`.
  const boundary = boundaryOf(contentType);
  const parts = boundary ? parseMultipart(bytes, boundary) : undefined;
  if (!parts) return { bytes, text, digest, form };
  const fields: Record<string, string> = {};
  const files: RecordedFile[] = [];
  for (const part of parts) {
    if (part.filename === undefined) fields[part.name] = new TextDecoder().decode(part.data);
    else
      files.push({ name: part.name, filename: part.filename, size: part.data.length, sha256: await sha256Hex(part.data), contentType: part.contentType ?? "" });
  }
  return { bytes, text, digest: { ...digest, fields, files }, form };
}

export async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
