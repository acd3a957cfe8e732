/**
 * Start-up builds things it never needs again: the config's parse, the route schemas TypeBox
 * builds, and the compiled code of the functions that did it (hot enough to reach the optimising
 * JIT). The collector alone returns little of it, since the runtime keeps the code and its
 * allocator keeps free pages. So, once, when the process has been up a second and no call is in
 * flight, the runtime is asked to hand all of that back (README.md, Performance: idle RSS of the
 * binary about 3 MB lower). It pauses the process ~15 ms once, and the next calls compile their
 * code again. A process that is busy then is tried again each second, for ten seconds; one that
 * stays busy keeps its memory, which its collector works on anyway.
 */
import type { Logger } from "../lib/log.ts";
import type { RuntimeAdapter } from "../runtime/types.ts";

const CHECK_MS = 1000;
const CHECKS = 10;
const mb = (bytes: number) => Math.round(bytes / 104_857.6) / 10;

/** Schedule the release; the returned function cancels it (a drain that starts first). */
export function releaseStartupMemory(runtime: RuntimeAdapter, isIdle: () => boolean, log: Logger): () => void {
  let checks = 0;
  const timer = setInterval(() => {
    checks++;
    if (!isIdle()) {
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
