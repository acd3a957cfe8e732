/**
 * Start-up builds things it never needs again: the config's parse, the route schemas TypeBox
 * builds, and the compiled code of the functions that did it (hot enough to reach the optimising
 * JIT). The collector alone returns little of it, since the runtime keeps the code and its
 * allocator keeps free pages. So, once, when the process has had no call in flight and none
 * started for ten seconds in a row, the runtime is asked to hand all of that back (README.md,
 * Performance: idle RSS of the binary about 3 MB lower). It pauses the process ~15 ms, and the
 * calls after it compile their code again: released just before a load began, that load spent
 * ~8% more CPU per request in its seconds 2 to 7 (bench/cpu.ts; the same after a 10 s warm-up),
 * so it waits for a process that is idle, not one between two calls.
 * Checked each second for the process's first ten minutes; a process that is never idle that
 * long keeps that memory, and is using what it holds.
 */
import type { Logger } from "../lib/log.ts";
import type { RuntimeAdapter } from "../runtime/types.ts";

const CHECK_MS = 1000;
const QUIET_CHECKS = 10;
const CHECKS = 600;
const mb = (bytes: number) => Math.round(bytes / 104_857.6) / 10;

/** What the release watches: the calls in flight and how many have started (proxy/in-flight.ts). */
export interface CallActivity {
  readonly size: number;
  readonly started: number;
}

/** Schedule the release; the returned function cancels it (a drain that starts first). */
export function releaseStartupMemory(runtime: RuntimeAdapter, calls: CallActivity, log: Logger): () => void {
  let checks = 0;
  let quiet = 0;
  let startedBefore = calls.started;
  const timer = setInterval(() => {
    checks++;
    quiet = calls.size === 0 && calls.started === startedBefore ? quiet + 1 : 0;
    startedBefore = calls.started;
    if (quiet < QUIET_CHECKS) {
      if (checks >= CHECKS) clearInterval(timer);
      return;
    }
    clearInterval(timer);
    const before = process.memoryUsage.rss();
    if (!runtime.releaseIdleMemory()) return;
    // the runtime releases once no JavaScript is on the stack, after this callback returns, and
    // its allocator hands pages back a few milliseconds later
    setTimeout(() => log.debug("start-up memory released", { rss_mb_before: mb(before), rss_mb_after: mb(process.memoryUsage.rss()) }), 100);
  }, CHECK_MS);
  // never what keeps a process alive
  (timer as { unref?: () => void }).unref?.();
  return () => clearInterval(timer);
}
