/**
 * Start-up builds things it never needs again: the config's parse, the route schemas TypeBox
 * builds, and the compiled code of the functions that did it (hot enough to reach the optimising
 * JIT). The collector alone returns little of it, since the runtime keeps the code and its
 * allocator keeps free pages. So, once, after ten checks a second apart that saw no request
 * start (probes aside) and no upstream call or Realtime session open, the runtime is asked to
 * hand all of that back (README.md, Performance: idle RSS of the binary about 3 MB lower). It
 * pauses the process ~15 ms, and the calls after it compile their code again: released just
 * before a load began, that load spent ~8% more CPU per request in its seconds 2 to 7
 * (bench/cpu.ts; no difference after a 10 s warm-up). So it waits for a process that is idle,
 * not one between two calls. Only in the process's first ten minutes: one that is never idle
 * that long keeps that memory, and is using what it holds. A config reload builds the app again,
 * so it starts the wait over (app/start-proxy.ts); the cluster's primary, which serves nothing,
 * does not release.
 */
import type { Logger } from "../lib/log.ts";
import type { RuntimeAdapter } from "../runtime/types.ts";

const CHECK_MS = 1000;
const QUIET_CHECKS = 10;
const CHECKS = 600;
const mb = (bytes: number) => Math.round(bytes / 104_857.6) / 10;

/** What the release watches. */
export interface Activity {
  /** Requests started so far (http/request-activity.ts). */
  started(): number;
  /** Upstream calls and Realtime sessions open now (proxy/in-flight.ts). */
  inFlight(): number;
}

/** A scheduler of repeated checks: setInterval, or a test's own. Returns how to stop it. */
export type Every = (ms: number, check: () => void) => () => void;

const everyInterval: Every = (ms, check) => {
  const timer = setInterval(check, ms);
  // never what keeps a process alive
  (timer as { unref?: () => void }).unref?.();
  return () => clearInterval(timer);
};

/** Schedule the release; the returned function cancels it (a drain that starts first). */
export function releaseStartupMemory(runtime: RuntimeAdapter, activity: Activity, log: Logger, every: Every = everyInterval): () => void {
  const release = runtime.releaseIdleMemory?.bind(runtime);
  if (release === undefined) return () => {};
  let checks = 0;
  let quiet = 0;
  let startedBefore = activity.started();
  const stop = every(CHECK_MS, () => {
    checks++;
    const started = activity.started();
    quiet = started === startedBefore && activity.inFlight() === 0 ? quiet + 1 : 0;
    startedBefore = started;
    if (quiet < QUIET_CHECKS) {
      if (checks >= CHECKS) stop();
      return;
    }
    stop();
    release().then(
      ({ rssBefore, rssAfter }) => log.debug("start-up memory released", { rss_mb_before: mb(rssBefore), rss_mb_after: mb(rssAfter) }),
      (error) => log.warn("start-up memory not released", { error: String(error) }),
    );
  });
  return stop;
}
