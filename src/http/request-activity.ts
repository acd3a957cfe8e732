/**
 * How many requests have come in that count as use of the proxy: every one, refused or not,
 * Realtime upgrades too, but the probes (liveness, readiness, metrics scrapes), which come every
 * few seconds whether anyone uses the proxy or not. Outlives config reloads. Read by the start-up
 * memory release (app/release-startup-memory.ts), which waits for 10 s without any.
 */
const PROBES = new Set(["/healthz", "/readyz", "/metrics"]);

export class RequestActivity {
  private count = 0;

  /** A request for `path` came in. */
  saw(path: string): void {
    if (!PROBES.has(path)) this.count++;
  }

  get started(): number {
    return this.count;
  }
}
