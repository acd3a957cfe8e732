/**
 * Every process the benchmark starts goes through `start`, so that all of them are stopped when
 * it ends: normally, on an error, or on Ctrl-C (`stopAll`, wired in run.ts). Each child also
 * runs under `setpriv --pdeathsig KILL`, so it dies with us even if we are SIGKILLed.
 * `taskset -c <core>` pins it (the core layout is in run.ts). Both tools exec, so the pid we
 * hold is the program's own pid, and /proc/<pid> is the program we measure.
 */
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";

export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly exited: Promise<number>;
  /** SIGTERM, then SIGKILL after `graceMs` */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<Child>();
/** CPU ms used by the processes we started and that have ended (for the interference check). */
let endedCpuMs = 0;

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
    env: { PATH: `${process.env.PATH}:/usr/sbin:/sbin`, HOME: process.env.HOME, ...env },
    stdin: "ignore",
    stdout: log ? Bun.file(log) : "ignore",
    stderr: log ? Bun.file(log) : "inherit",
  });
  const child: Child = {
    name,
    pid: proc.pid,
    exited: proc.exited,
    async stop(graceMs = 3000) {
      running.delete(child);
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      endedCpuMs += cpuMs(proc.pid);
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
      await proc.exited;
      clearTimeout(timer);
    },
  };
  running.add(child);
  return child;
}

/** Run a command to completion with a hard time limit; its stdout is returned. */
export async function runToEnd(
  cmd: string[],
  { core, env, timeoutMs }: { core: number | null; env?: Record<string, string>; timeoutMs: number },
): Promise<string> {
  const pin = core === null ? [] : ["taskset", "-c", String(core)];
  const proc = Bun.spawn([...pin, "setpriv", "--pdeathsig", "KILL", "--", ...cmd], {
    env: { PATH: `${process.env.PATH}:/usr/sbin:/sbin`, HOME: process.env.HOME, ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const handle: Child = { name: cmd[0]!, pid: proc.pid, exited: proc.exited, stop: async () => void proc.kill("SIGKILL") };
  running.add(handle);
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  try {
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    endedCpuMs += Number(proc.resourceUsage()?.cpuTime.total ?? 0) / 1000;
    if (code !== 0)
      throw new Error(`${cmd.join(" ")} exited ${code}${proc.signalCode ? ` (${proc.signalCode}, time limit ${timeoutMs} ms?)` : ""}: ${err.slice(-2000)}`);
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

export interface ThreadCpu {
  readonly userMs: number;
  readonly sysMs: number;
  /** Context switches: the thread blocked (voluntary) or was preempted (involuntary). */
  readonly voluntary: number;
  readonly involuntary: number;
}

/**
 * Per thread of one process, summed by thread name (JS thread, "HTTP Client", JIT workers...):
 * where a runtime's CPU goes that a JavaScript profile cannot see (bench/cpu.ts --threads).
 */
export function threadCpu(pid: number): Map<string, ThreadCpu> {
  const out = new Map<string, ThreadCpu>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const dir = `/proc/${pid}/task/${tid}`;
      const name = tid === String(pid) ? "(main)" : readFileSync(`${dir}/comm`, "utf8").trim();
      const stat = readFileSync(`${dir}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const status = readFileSync(`${dir}/status`, "utf8");
      const prev = out.get(name);
      out.set(name, {
        userMs: (prev?.userMs ?? 0) + Number(fields[11]) * 10,
        sysMs: (prev?.sysMs ?? 0) + Number(fields[12]) * 10,
        voluntary: (prev?.voluntary ?? 0) + Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0),
        involuntary: (prev?.involuntary ?? 0) + Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0),
      });
    } catch {
      // gone
    }
  }
  return out;
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

/** user + nice + system ms of the whole machine, all cores (/proc/stat; irq time left out). */
export function machineCpuMs(): number {
  const n = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  return (n[0]! + n[1]! + n[2]!) * 10;
}

/** CPU ms of everything we started (running or ended) and of this process. */
export function ourCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return endedCpuMs + [...running].reduce((sum, c) => sum + cpuMs(c.pid), 0) + (user + system) / 1000;
}

/** Measurement windows during which other work took more than 10% of the machine. */
export const disturbed: Array<{ label: string; foreign: number }> = [];

/** Watch one measurement window: at its end, how much of the machine went to work not ours. */
export function watchInterference(label: string): () => number {
  const start = { machine: machineCpuMs(), ours: ourCpuMs(), at: performance.now() };
  return () => {
    const wall = performance.now() - start.at;
    const foreign = Math.max(0, machineCpuMs() - start.machine - (ourCpuMs() - start.ours)) / (wall * navigator.hardwareConcurrency);
    if (foreign > 0.1 && wall > 500) disturbed.push({ label, foreign: Number(foreign.toFixed(2)) });
    return foreign;
  };
}

/** Share of all cores busy over `ms` (from /proc/stat): a machine that is busy before we start
 *  gives noisy figures, and the run says so. */
export async function machineBusy(ms = 1000): Promise<number> {
  const read = () => {
    const [, ...fields] = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/);
    const n = fields.map(Number);
    const idle = n[3]! + n[4]!;
    return { idle, total: n.reduce((a, b) => a + b, 0) };
  };
  const a = read();
  await Bun.sleep(ms);
  const b = read();
  return b.total === a.total ? 0 : 1 - (b.idle - a.idle) / (b.total - a.total);
}
