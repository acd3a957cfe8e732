/** Start the mock upstream (mock-upstream.ts) as a pinned process, and talk to its /_bench API. */
import { resolve } from "node:path";
import { start, waitForHttp, type Child } from "./lib/procs.ts";
import { UPSTREAM_KEY } from "./targets.ts";

export interface MockStats {
  requests: number;
  streamsStarted: number;
  streamsCompleted: number;
  streamsCancelled: number;
  activeStreams: number;
  maxActiveStreams: number;
  streamBytes: number;
  /** distinct client ports seen: how many connections the proxy opened to it */
  connections: number;
}

export interface Mock {
  readonly port: number;
  readonly url: string;
  readonly child: Child;
  configure(c: { chunks?: number; delayMs?: number }): Promise<void>;
  stats(): Promise<MockStats>;
  reset(): Promise<void>;
}

export async function startMock(port: number, core: number, bun: string): Promise<Mock> {
  const child = start("mock-upstream", [bun, resolve(import.meta.dir, "mock-upstream.ts"), String(port), UPSTREAM_KEY], { core });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/_bench/stats`);
  return {
    port,
    url,
    child,
    async configure(c) {
      await (await fetch(`${url}/_bench/config`, { method: "POST", body: JSON.stringify(c) })).arrayBuffer();
    },
    async stats() {
      return (await (await fetch(`${url}/_bench/stats`)).json()) as MockStats;
    },
    async reset() {
      await (await fetch(`${url}/_bench/reset`, { method: "POST" })).arrayBuffer();
    },
  };
}
