/**
 * Time for code that waits: the runtime's timers, or, in unit tests, a manual clock that fires
 * what is due when the test moves it on (no test sleeps). One shared object: a stream's timers
 * cost no allocation.
 */
export interface Timers {
  now(): number;
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const REAL_TIMERS: Timers = {
  now: () => performance.now(),
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** For unit tests: nothing fires until `advance`, which runs every timer due by then, in order. */
export class ManualTimers implements Timers {
  private at = 0;
  private nextId = 1;
  private readonly due = new Map<number, { readonly at: number; readonly fn: () => void }>();

  now(): number {
    return this.at;
  }

  set(fn: () => void, ms: number): number {
    const id = this.nextId++;
    this.due.set(id, { at: this.at + Math.max(0, ms), fn });
    return id;
  }

  clear(handle: unknown): void {
    this.due.delete(handle as number);
  }

  advance(ms: number): void {
    const until = this.at + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.due) if (entry[1].at <= until && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.due.delete(next[0]);
      this.at = next[1].at;
      next[1].fn();
    }
    this.at = until;
  }
}
