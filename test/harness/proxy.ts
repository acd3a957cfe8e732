/**
 * The proxy as a real child process, started the way a user starts it. Which program runs is
 * chosen by AZURE_PROXY_CMD (default: this source on Bun), so the same suite checks the compiled
 * binary and the Deno build.
 */
import { resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");

export function proxyCommand(): string[] {
  const custom = process.env.AZURE_PROXY_CMD;
  if (custom) return custom.split(" ").filter(Boolean);
  return [process.execPath, resolve(ROOT, "src/main.ts")];
}

export interface RunningProxy {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Everything the process printed so far. */
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number>;
}

export interface ProxyOptions {
  env?: Record<string, string | undefined>;
  args?: string[];
  command?: string[];
  /** Called at each look at the output until the process listens (to signal it while it starts). */
  whileStarting?: (pid: number, output: string) => void;
}

/** Start `azure-proxy serve` (or given args) and wait until it logs that it listens. */
export async function startProxy({ env = {}, args = ["serve"], command = proxyCommand(), whileStarting }: ProxyOptions): Promise<RunningProxy> {
  const proc = Bun.spawn([...command, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, HOST: "127.0.0.1", PORT: "0", LOG_FORMAT: "json", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  let output = "";
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) output += decoder.decode(chunk, { stream: true });
  };
  void collect(proc.stdout);
  void collect(proc.stderr);

  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const match = /"msg":"listening","url":"https?:\/\/[^:]+:(\d+)"/.exec(output);
    if (match) {
      const port = Number(match[1]);
      return {
        url: `http://127.0.0.1:${port}`,
        port,
        pid: proc.pid,
        output: () => output,
        async stop(signal = "SIGTERM") {
          proc.kill(signal);
          return await proc.exited;
        },
      };
    }
    if (proc.exitCode !== null || proc.signalCode !== null)
      throw new Error(`proxy exited with ${proc.exitCode ?? proc.signalCode} before listening:\n${output}`);
    whileStarting?.(proc.pid, output);
    await Bun.sleep(20);
  }
  proc.kill();
  throw new Error(`proxy did not start within 15 s:\n${output}`);
}

/** Run a one-shot subcommand (check, --help, a failing start) and collect its result. */
export async function runProxyCommand(args: string[], env: Record<string, string | undefined> = {}, command = proxyCommand()) {
  const proc = Bun.spawn([...command, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill(), 15_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}
