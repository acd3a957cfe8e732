import { describe, expect, test } from "bun:test";
import type { LogFields, Logger } from "../lib/log.ts";
import type { RuntimeAdapter } from "../runtime/types.ts";
import { type Every, releaseStartupMemory } from "./release-startup-memory.ts";

const MB = 1024 * 1024;

/** The release's world: a hand-driven scheduler, a runtime that counts releases, the activity. */
function world({ canRelease = true } = {}) {
  let check: (() => void) | undefined;
  let stopped = false;
  const every: Every = (_ms, fn) => {
    check = fn;
    return () => {
      stopped = true;
    };
  };
  let releases = 0;
  const runtime = {
    ...(canRelease
      ? {
          releaseIdleMemory: async () => {
            releases++;
            return { rssBefore: 56 * MB, rssAfter: 53 * MB };
          },
        }
      : {}),
  } as unknown as RuntimeAdapter;
  const logged: [string, LogFields | undefined][] = [];
  const log: Logger = { debug: (m, f) => logged.push([m, f]), info() {}, warn: (m, f) => logged.push([m, f]), error() {} };
  const activity = { requests: 0, open: 0 };
  const cancel = releaseStartupMemory(runtime, { started: () => activity.requests, inFlight: () => activity.open }, log, every);
  return {
    activity,
    cancel,
    logged,
    releases: () => releases,
    stopped: () => stopped,
    scheduled: () => check !== undefined,
    /** Run `n` checks, as the scheduler would a second apart, while it is not stopped. */
    checks(n: number) {
      for (let i = 0; i < n && !stopped; i++) check!();
    },
  };
}

/** Nine quiet checks release nothing; the tenth releases. */
function releasesAtTenthQuietCheck(w: ReturnType<typeof world>) {
  w.checks(9);
  expect(w.releases()).toBe(0);
  w.checks(1);
  expect(w.releases()).toBe(1);
}

describe("start-up memory release", () => {
  test("after ten quiet checks, once, with the RSS before and after in a debug line", async () => {
    const w = world();
    releasesAtTenthQuietCheck(w);
    expect(w.stopped()).toBe(true);
    await Bun.sleep(0);
    expect(w.logged).toEqual([["start-up memory released", { rss_mb_before: 56, rss_mb_after: 53 }]]);
  });

  test("a request that starts, even one that ended at once, starts the ten checks over", () => {
    const w = world();
    w.checks(5);
    w.activity.requests++;
    // the check that sees the request is not quiet; ten quiet ones follow it
    w.checks(1);
    releasesAtTenthQuietCheck(w);
  });

  test("a call or session still open holds it back however long it lasts, and the ten start when it ends", () => {
    const w = world();
    w.activity.open = 1;
    w.checks(50);
    expect(w.releases()).toBe(0);
    w.activity.open = 0;
    releasesAtTenthQuietCheck(w);
  });

  test("a process busy through its first 600 checks keeps its memory and stops checking", () => {
    const w = world();
    for (let i = 0; i < 600 && !w.stopped(); i++) {
      w.activity.requests++;
      w.checks(1);
    }
    expect(w.stopped()).toBe(true);
    expect(w.releases()).toBe(0);
  });

  test("cancelled (a drain), it never releases; a runtime with no way schedules nothing", () => {
    const w = world();
    w.checks(5);
    w.cancel();
    w.checks(20);
    expect(w.releases()).toBe(0);
    const none = world({ canRelease: false });
    expect(none.scheduled()).toBe(false);
  });
});
