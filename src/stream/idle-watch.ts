/**
 * A relay's idle limit and heartbeats, with one timer per stream instead of timers per read
 * (racing each read against fresh timers cost ~15% of the streaming CPU). A chunk only notes
 * its time; the timer, set for the earliest deadline the relay could have, finds on firing that
 * the deadline moved and sets itself again. So a busy stream wakes its timer about once per
 * heartbeat (or idle) period, whatever its rate of chunks.
 *
 * The deadlines are those of a timer started at each wait: the idle limit and the next heartbeat
 * count from the start of the wait (or the last heartbeat). Nothing fires while the relay is not
 * waiting for the upstream: a client that stops reading for longer than the idle limit has not
 * made the upstream idle, so its next read starts a fresh limit.
 */
import { REAL_TIMERS, type Timers } from "../lib/timers.ts";

/** What the watch tells (the relay itself: one object per stream, not two closures). */
export interface IdleOwner {
  /** Runs at most once, and the watch is stopped before it runs. */
  onIdle(): void;
  onBeat(): void;
}

export class IdleWatch {
  private timer: unknown = null;
  private waiting = false;
  private stopped = false;
  private quietSince: number;
  private beatFrom = 0;

  /** `beatMs` 0: no heartbeats. A heartbeat is only due when it comes before the idle limit. */
  constructor(
    private readonly idleMs: number,
    private readonly beatMs: number,
    private readonly owner: IdleOwner,
    private readonly timers: Timers = REAL_TIMERS,
  ) {
    this.quietSince = timers.now();
  }

  /** The relay starts waiting for the upstream's next chunk. */
  wait(): void {
    if (this.stopped) return;
    this.waiting = true;
    const now = this.timers.now();
    this.quietSince = now;
    this.beatFrom = now;
    // a timer already set is never late: both deadlines only ever move later
    if (this.timer === null) this.arm(now);
  }

  /** The upstream's chunk (or its end) came. */
  got(): void {
    this.waiting = false;
  }

  stop(): void {
    this.stopped = true;
    this.waiting = false;
    if (this.timer !== null) this.timers.clear(this.timer);
    this.timer = null;
  }

  private arm(now: number): void {
    const idleAt = this.quietSince + this.idleMs;
    const beatAt = this.beatMs > 0 ? this.beatFrom + this.beatMs : Infinity;
    this.timer = this.timers.set(this.fire, Math.max(1, Math.min(idleAt, beatAt) - now));
  }

  private readonly fire = () => {
    this.timer = null;
    // not waiting: the next wait sets the timer again
    if (!this.waiting) return;
    const now = this.timers.now();
    if (now >= this.quietSince + this.idleMs) {
      this.stop();
      this.owner.onIdle();
      return;
    }
    if (this.beatMs > 0 && now >= this.beatFrom + this.beatMs) {
      this.beatFrom = now;
      this.owner.onBeat();
    }
    if (!this.stopped) this.arm(now);
  };
}
