/** One buffer from several: for bodies read in chunks under a size cap; a lone chunk is returned itself, not copied. */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  // a small body comes in one piece: no copy
  if (chunks.length === 1) return chunks[0]!;
  let size = 0;
  for (const chunk of chunks) size += chunk.byteLength;
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}
