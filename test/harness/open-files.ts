/**
 * Files any process holds open under a directory (Linux /proc): a spool file is unlinked as
 * soon as it is opened, so an open descriptor, shown as "PATH (deleted)", is all that is left
 * of it while a body is held.
 */
import { readdirSync, readlinkSync } from "node:fs";

export function openFilesUnder(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or not ours to look at
    }
    for (const fd of fds) {
      try {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        if (target.startsWith(`${dir}/`)) found.push(target);
      } catch {
        // closed while we looked
      }
    }
  }
  return found;
}
