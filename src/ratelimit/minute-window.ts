/**
 * A count over the last 60 seconds, kept in 60 one-second buckets: a sliding window that needs
 * no memory per event, so a key sending thousands of requests costs 60 numbers.
 */
const SECONDS = 60;

export class MinuteWindow {
  private readonly counts = new Float64Array(SECONDS);
  private readonly seconds = new Float64Array(SECONDS).fill(-1);

  add(nowMs: number, n: number): void {
    const second = Math.floor(nowMs / 1000);
    const i = second % SECONDS;
    if (this.seconds[i] !== second) {
      this.seconds[i] = second;
      this.counts[i] = 0;
    }
    this.counts[i]! += n;
  }

  total(nowMs: number): number {
    const now = Math.floor(nowMs / 1000);
    let sum = 0;
    for (let i = 0; i < SECONDS; i++) if (now - this.seconds[i]! < SECONDS) sum += this.counts[i]!;
    return sum;
  }

  /** How long until the total falls below `limit` as old seconds leave the window. */
  msUntilBelow(nowMs: number, limit: number): number {
    const now = Math.floor(nowMs / 1000);
    let total = this.total(nowMs);
    for (let age = SECONDS - 1; age >= 0 && total >= limit; age--) {
      const second = now - age;
      const i = ((second % SECONDS) + SECONDS) % SECONDS;
      if (this.seconds[i] === second) total -= this.counts[i]!;
      if (total < limit) return (second + SECONDS) * 1000 - nowMs;
    }
    return total < limit ? 0 : SECONDS * 1000;
  }
}
