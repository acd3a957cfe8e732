/**
 * Client-key checks whose time does not depend on where a guess differs, so a key cannot be
 * found byte by byte by timing 401s. Keys are hashed first, which also hides their length;
 * every configured key is compared, found or not.
 */
import { createHash, timingSafeEqual } from "node:crypto";

export function digestOf(key: string): Uint8Array {
  return createHash("sha256").update(key).digest();
}

/** Index of the key whose digest matches `candidate`, or -1. */
export function findKey(candidate: string, digests: readonly Uint8Array[]): number {
  const probe = digestOf(candidate);
  let found = -1;
  for (let i = 0; i < digests.length; i++) {
    if (timingSafeEqual(probe, digests[i]!) && found === -1) found = i;
  }
  return found;
}
