/**
 * Every process the benchmark starts goes through `start`, so that all of them are stopped when
 * it ends: normally, on an error, or on Ctrl-C (`stopAll`, wired in run.ts). Each child also
 * runs under `setpriv --pdeathsig KILL`, so it dies with us even if we are SIGKILLed.
 * `taskset -c <core>` pins it (the core layout is in run.ts). Both tools exec, so the pid we
 * hold is the program's own pid, and /proc/<pid> is the program we measure.
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:net";

export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly exited: Promise<number>;
  stop(): Promise<void>;
}

const running = new Set<Child>();

export interface StartOptions {
  core: number | null;
  env?: Record<string, string | undefined>;
  /** A file to append stdout and stderr to; default: discard stdout, pass stderr through. */
  log?: string;
  cwd?: string;
}

export function start(name: string, cmd: string[], { core, env, log, cwd }: StartOptions): Child {
  const pin = core === null ? [] : ["taskset", "-c", String(core)];
  const proc = Bun.spawn([...pin, "setpriv", "--pdeathsig", "KILL", "--", ...cmd], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdin: "ignore",
    stdout: log ? Bun.file(log) : "ignore",
    stderr: log ? Bun.file(log) : "inherit",
  });
  const child: Child = {
    name,
    pid: proc.pid,
    exited: proc.exited,
    async stop() {
      running.delete(child);
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 3000);
      await proc.exited;
      clearTimeout(timer);
    },
  };
  running.add(child);
  return child;
}

/** Run a command to completion with a hard time limit; its stdout is returned. */
export async function runToEnd(cmd: string[], { core, env, timeoutMs }: { core: number | null; env?: Record<string, string>; timeoutMs: number }): Promise<string> {
  const pin = core === null ? [] : ["taskset", "-c", String(core)];
  const proc = Bun.spawn([...pin, "setpriv", "--pdeathsig", "KILL", "--", ...cmd], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const handle: Child = { name: cmd[0]!, pid: proc.pid, exited: proc.exited, stop: async () => void proc.kill("SIGKILL") };
  running.add(handle);
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  try {
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    if (code !== 0) throw new Error(`${cmd.join(" ")} exited ${code}${proc.signalCode ? ` (${proc.signalCode}, time limit ${timeoutMs} ms?)` : ""}: ${err.slice(-2000)}`);
    return out;
  } finally {
    clearTimeout(timer);
    running.delete(handle);
  }
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((c) => c.stop().catch(() => {})));
}

/** Pin this process (all of its threads) to a core. */
export function pinSelf(core: number): void {
  Bun.spawnSync(["taskset", "-a", "-cp", String(core), String(process.pid)], { stdout: "ignore" });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Poll until `url` answers (any status) or the time is up. */
export async function waitForHttp(url: string, timeoutMs = 10_000, init?: RequestInit): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    try {
      await (await fetch(url, init)).arrayBuffer();
      return;
    } catch {
      await Bun.sleep(10);
    }
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

/** The pid and all its descendants (nginx: master + workers). */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      for (const tid of readFileSync(`/proc/${out[i]}/task/${out[i]}/children`, "utf8").trim().split(/\s+/)) if (tid) out.push(Number(tid));
    } catch {
      // gone
    }
  }
  return out;
}

/** VmRSS in MB, summed over the process tree. */
export function rssMb(pid: number): number {
  let kb = 0;
  for (const p of processTree(pid)) {
    try {
      kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, "utf8"))?.[1] ?? 0);
    } catch {
      // gone
    }
  }
  return kb / 1024;
}

/** utime + stime in ms, summed over the process tree (clock ticks are 10 ms here). */
export function cpuMs(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone
    }
  }
  return ticks * 10;
}

/** Samples RSS every `everyMs` until stopped: the peak under a load. */
export function rssSampler(pid: number, everyMs = 20) {
  let peak = rssMb(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssMb(pid))), everyMs);
  return {
    stop(): number {
      clearInterval(timer);
      return Math.max(peak, rssMb(pid));
    },
  };
}
