/**
 * The upstream calls in flight, each with the way to abort it: at the end of a shutdown's grace
 * period they are cut here, whatever the runtime's server can or cannot force (Deno's shutdown
 * only waits). A cut relay ends its client stream with an error event, so nobody hangs.
 */
export class InFlight {
  private readonly cutters = new Set<() => void>();

  /** Register a call; the returned function unregisters it (call it when the call is over). */
  add(cut: () => void): () => void {
    this.cutters.add(cut);
    return () => this.cutters.delete(cut);
  }

  get size(): number {
    return this.cutters.size;
  }

  /** Cut every call; one that throws does not keep the others from being cut (its error is returned). */
  cutAll(): unknown[] {
    const errors: unknown[] = [];
    for (const cut of [...this.cutters]) {
      try {
        cut();
      } catch (error) {
        errors.push(error);
      }
    }
    return errors;
  }
}
