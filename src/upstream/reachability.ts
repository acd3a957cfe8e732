/**
 * The connect timeout. `fetch` has no connect phase of its own, so a resource whose address
 * swallows packets would hold a request until the first-byte timeout (minutes) before failing
 * over. Before calling an upstream that has not answered lately, we open (and close) one TCP
 * connection with `connect_ms` to spare; steady traffic never pays for it.
 */
import { lazyBuiltin } from "../lib/lazy-builtin.ts";
import type { Clock } from "./health.ts";

const net = lazyBuiltin<typeof import("node:net")>("node:net");

const FRESH_MS = 30_000;

export class Reachability {
  private readonly lastAnswer = new Map<string, number>();
  /** One probe per endpoint at a time: a burst after a quiet spell shares it. */
  private readonly probing = new Map<string, Promise<void>>();

  constructor(private readonly clock: Clock) {}

  answered(endpoint: string): void {
    this.lastAnswer.set(endpoint, this.clock());
  }

  /**
   * Resolves when the endpoint accepts a connection; rejects with why not. Undefined: it
   * answered lately, nothing to wait for (steady traffic pays no promise for the check).
   */
  check(endpoint: string, timeoutMs: number): Promise<void> | undefined {
    if (this.clock() - (this.lastAnswer.get(endpoint) ?? -Infinity) < FRESH_MS) return undefined;
    let probe = this.probing.get(endpoint);
    if (!probe) {
      probe = this.probe(endpoint, timeoutMs).finally(() => this.probing.delete(endpoint));
      this.probing.set(endpoint, probe);
    }
    return probe;
  }

  private async probe(endpoint: string, timeoutMs: number): Promise<void> {
    const url = new URL(endpoint);
    const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
    await new Promise<void>((resolve, reject) => {
      const socket = net().connect({ host: url.hostname, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(Object.assign(new Error(`no connection within ${timeoutMs} ms`), { code: "CONNECT_TIMEOUT" }));
      }, timeoutMs);
      socket.once("connect", () => {
        clearTimeout(timer);
        socket.destroy();
        resolve();
      });
      socket.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }
}
