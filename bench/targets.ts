/**
 * What the same workloads run against: the mock upstream directly (no proxy at all), nginx
 * doing the same rewrite (the yardstick), our binary, and a minimal Bun proxy (floor-proxy.ts).
 * Each knows its URL, the key header its clients send, and how many SSE data events a client
 * should see per stream.
 */
import { join, resolve } from "node:path";
import { runToEnd, start, waitForHttp, type Child } from "./lib/procs.ts";

export const CLIENT_KEY = "bench-client-key";
export const UPSTREAM_KEY = "bench-upstream-key";
export const DEPLOYMENT = "gpt-4o";
export const API_VERSION = "2024-10-21";

export interface Target {
  readonly name: string;
  readonly port: number;
  /** path + query a client posts chat completions to */
  readonly chatPath: string;
  readonly chatUrl: string;
  readonly keyHeader: readonly [string, string];
  /** the process under test (null: the mock itself) */
  readonly pid: number | null;
  body(stream: boolean): string;
  /** data events a client sees when the upstream sends `sent` */
  expectedFrames(sent: number): number;
}

const body = (stream: boolean) => JSON.stringify({ model: DEPLOYMENT, messages: [{ role: "user", content: "Who are you?" }], stream });

export function directTarget(mockPort: number): Target {
  const chatPath = `/openai/deployments/${DEPLOYMENT}/chat/completions?api-version=${API_VERSION}`;
  return {
    name: "direct",
    port: mockPort,
    chatPath,
    chatUrl: `http://127.0.0.1:${mockPort}${chatPath}`,
    keyHeader: ["api-key", UPSTREAM_KEY],
    pid: null,
    body,
    expectedFrames: (n) => n,
  };
}

export function proxiedTarget(name: string, port: number, pid: number, dropsPromptFilterChunk: boolean): Target {
  const chatPath = "/v1/chat/completions";
  return {
    name,
    port,
    chatPath,
    chatUrl: `http://127.0.0.1:${port}${chatPath}`,
    keyHeader: ["authorization", `Bearer ${CLIENT_KEY}`],
    pid,
    body,
    // the proxy's stream fix-ups (on by default) drop Azure's prompt-filter chunk for OpenAI clients
    expectedFrames: (n) => (dropsPromptFilterChunk ? n - 1 : n),
  };
}

export function oursEnv(mockPort: number, port: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    AZURE_OPENAI_ENDPOINT: `http://127.0.0.1:${mockPort}`,
    AZURE_OPENAI_API_KEY: UPSTREAM_KEY,
    AZURE_OPENAI_API_VERSION: API_VERSION,
    AUTH_KEY: CLIENT_KEY,
    HOST: "127.0.0.1",
    PORT: String(port),
    LOG_FORMAT: "json",
    ...extra,
  };
}

/** The floor proxy, compiled like ours so the runtime part of the cost is the same. */
export async function buildFloor(bun: string): Promise<string> {
  const root = resolve(import.meta.dir, "..");
  const outfile = join(root, "bench/.build/bun-floor");
  await runToEnd([bun, "build", "--compile", "--minify", join(root, "bench/floor-proxy.ts"), "--outfile", outfile], { core: null, timeoutMs: 120_000 });
  return outfile;
}

/** floor-proxy.ts's settings, without PORT */
export const floorEnv = (mockPort: number) => ({ UPSTREAM: `http://127.0.0.1:${mockPort}`, CLIENT_KEY, UPSTREAM_KEY });

/** The floor (floor-proxy.ts, compiled): what Bun itself costs for the same call. */
export async function startFloor(binary: string, o: { mockPort: number; port: number; core: number }): Promise<Child> {
  const env = { PORT: String(o.port), ...floorEnv(o.mockPort) };
  const child = start("bun-floor", [binary], { core: o.core, env });
  await waitForHttp(`http://127.0.0.1:${o.port}/`, 10_000);
  return child;
}

/** Our proxy as a user runs it: `<cmd> serve`, logging at its default level to a file. */
export async function startOurs(
  name: string,
  cmd: string[],
  o: { mockPort: number; port: number; core: number | null; dir: string; env?: Record<string, string> },
): Promise<Child> {
  const child = start(name, [...cmd, "serve"], { core: o.core, env: oursEnv(o.mockPort, o.port, o.env), log: join(o.dir, `${name}.log`) });
  await Promise.race([
    waitForHttp(`http://127.0.0.1:${o.port}/healthz`, 15_000),
    child.exited.then((code) => {
      throw new Error(`${name} exited with ${code} before listening; see ${join(o.dir, `${name}.log`)}`);
    }),
  ]);
  return child;
}
