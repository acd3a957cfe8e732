/**
 * The listeners of one server across certificate reloads: the current one, and those a reload
 * retired, which accept nothing new but serve their open connections and sessions until those
 * end. A retired listener is let go once its stop has resolved (every connection closed), so a
 * server reloaded every day does not keep every listener it ever had. On Deno a retired
 * listener with WebSockets open goes on accepting until the last closes, answering 503 (its
 * shutdown would close them: runtime/deno.ts).
 */
export interface Listener {
  /** Stop accepting; resolves once every connection is closed (with `closeActive`, cut first). */
  stop(closeActive?: boolean): Promise<void>;
}

export class Listeners<L extends Listener> {
  private readonly retired = new Set<L>();

  constructor(private active: L) {}

  get current(): L {
    return this.active;
  }

  /** A successor for a listener already retired (a runtime that must free the port first). */
  set current(next: L) {
    this.active = next;
  }

  /** Listeners still open: the current one and the retired ones with connections left. */
  get open(): number {
    return 1 + this.retired.size;
  }

  /** `next` takes new connections; the one before stops accepting and is let go when it is done. */
  replace(next: L): void {
    const previous = this.active;
    this.active = next;
    this.retire(previous);
  }

  /** `listener` stops accepting, and is let go once its connections are closed. */
  retire(listener: L, closeActive = false): void {
    this.retired.add(listener);
    const done = () => this.retired.delete(listener);
    listener.stop(closeActive).then(done, done);
  }

  stopAll(closeActive = false): Promise<void> {
    return Promise.all([this.active, ...this.retired].map((l) => l.stop(closeActive))).then(() => {});
  }
}
