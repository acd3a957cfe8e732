/**
 * One bound on bytes held across requests (limits.max_spool_bytes): every request body the
 * proxy keeps, in memory or in its spool file, holds a claim on it from its first byte until
 * the body is released. A claim that cannot grow is refused at once, never waited on: the
 * caller answers 503 and keeps nothing.
 */
export class ByteBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  get inUse(): number {
    return this.used;
  }

  claim(): Claim {
    return new Claim(this);
  }

  /** For Claim only. */
  take(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }

  /** For Claim only. */
  give(bytes: number): void {
    this.used -= bytes;
  }
}

export class Claim {
  private held = 0;
  private released = false;

  constructor(private readonly budget: ByteBudget) {}

  get bytes(): number {
    return this.held;
  }

  /** Hold `total` bytes in all (a claim never shrinks); false, holding no more, when the budget cannot. */
  holdUpTo(total: number): boolean {
    if (total <= this.held) return true;
    if (this.released || !this.budget.take(total - this.held)) return false;
    this.held = total;
    return true;
  }

  /** Give every byte back; safe to call more than once. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.budget.give(this.held);
    this.held = 0;
  }
}
