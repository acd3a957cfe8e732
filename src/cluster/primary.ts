/**
 * `serve --workers N`: N worker processes (worker.ts) serve one port together (SO_REUSEPORT: the
 * kernel spreads new connections across them), and this primary process serves nothing itself.
 * It holds what must not diverge between workers and answers them over IPC:
 *   - the config: loaded and validated here, sent whole to every worker, at start and on reload;
 *   - cooldowns: one worker's 429 is relayed to the others before that worker answers its client;
 *   - per-key limits: the one Limiter lives here, so a key's limit holds across workers;
 *   - metrics: /metrics on any worker sums every worker's registry.
 * A worker that dies is started again (with the current config and cooldowns); stop signals
 * reach the primary, which drains every worker and exits when they have.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import type { Config } from "../config/schema.ts";
import { Failure } from "../lib/failure.ts";
import type { Logger } from "../lib/log.ts";
import { Limiter, type LimitedClient } from "../ratelimit/limiter.ts";
import type { RuntimeAdapter } from "../runtime/types.ts";
import { Health, type Cooldown } from "../upstream/health.ts";
import { Link, type Channel, type Message, type Respond } from "./link.ts";

const START_TIMEOUT_MS = 20_000;
const ASK_TIMEOUT_MS = 2000;
/** A worker that lived at least this long before dying is restarted at once, else after a backoff. */
const HEALTHY_LIFE_MS = 10_000;
const MAX_RESTART_DELAY_MS = 30_000;

interface Worker {
  readonly index: number;
  readonly process: ChildProcess;
  readonly link: Link;
  readonly startedAt: number;
  /** It listens for messages (so it can be told of cooldowns), and then serves. */
  greeted: boolean;
  started: boolean;
  /** Called when the worker is ready for its start message. */
  onHello?: () => void;
  /** Stream slots this worker holds in the Limiter, so its death gives them back. */
  readonly slots: Set<string>;
  readonly exited: Promise<void>;
}

export interface WorkerPool {
  readonly server: { readonly port: number; readonly hostname: string };
  reload(config: Config): void;
  drain(graceMs: number): Promise<number>;
  cut(): void;
}

export async function startWorkers(initial: Config, count: number, runtime: RuntimeAdapter, log: Logger): Promise<WorkerPool> {
  let config = initial;
  const health = new Health(Date.now);
  const limiter = new Limiter(Date.now);
  // stream slots held, by "worker:slot" (the worker numbers its own)
  const slots = new Map<string, () => void>();
  const abandoned = new Set<string>();
  const workers = new Map<number, Worker>();
  let stopping = false;
  let serving = false;
  let cutCount = 0;
  const restartDelay = new Map<number, number>();

  if (config.server.port !== 0) await ensurePortFree(config.server.host, config.server.port);
  // the first worker finds the port when it is 0; the others then join it
  let port = config.server.port;
  const { argv, env } = runtime.selfCommand();

  function spawnWorker(index: number, port: number): Promise<{ port: number; hostname: string }> {
    const child = spawn(argv[0]!, [...argv.slice(1), "worker"], {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      env: { ...process.env, ...env },
    });
    let ready!: (value: { port: number; hostname: string }) => void;
    let failed!: (error: Error) => void;
    const started = new Promise<{ port: number; hostname: string }>((resolve, reject) => ((ready = resolve), (failed = reject)));
    let gone!: () => void;
    const exited = new Promise<void>((resolve) => (gone = resolve));
    const worker: Worker = {
      index,
      process: child,
      // a worker we can no longer talk to cannot be told of cooldowns or reloads: replace it
      link: new Link(
        child as unknown as Channel,
        (message, respond) => answer(worker, message, respond),
        () => {
          if (!stopping && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
        },
      ),
      startedAt: Date.now(),
      greeted: false,
      started: false,
      slots: new Set(),
      exited,
    };
    workers.set(index, worker);
    // a worker that cannot start is killed; its exit then says what happens next
    const giveUp = (error: Error) => {
      failed(error);
      child.kill("SIGKILL");
    };
    const timer = setTimeout(() => giveUp(new Error(`worker ${index} did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    // the worker says hello once it listens for messages; only then can it take its start
    worker.onHello = () => {
      worker.greeted = true;
      worker.link
        .request<{ port: number; hostname: string }>({ t: "start", config, port, index, cooling: health.cooling() }, START_TIMEOUT_MS)
        .then((where) => {
          worker.started = true;
          ready(where);
        }, giveUp)
        .finally(() => clearTimeout(timer));
    };
    let over = false;
    const onGone = (code: number | null, signal: string | null, error?: Error) => {
      if (over) return;
      over = true;
      gone();
      clearTimeout(timer);
      worker.link.close();
      workers.delete(index);
      for (const slot of worker.slots) slots.get(slot)?.();
      failed(error ?? new Error(`worker ${index} exited (${signal ?? `code ${code}`}) before it served`));
      // once the pool serves, a lost worker is always replaced (a failed restart too)
      if (!stopping && serving) restart(worker, code, signal ?? error?.message ?? null);
    };
    child.once("exit", (code, signal) => onGone(code, signal));
    // the program could not be started at all (deleted under us by an upgrade, say): no "exit"
    child.on("error", (error) => {
      if (child.pid === undefined) onGone(null, null, error);
    });
    return started;
  }

  function restart(worker: Worker, code: number | null, signal: string | null): void {
    const lived = Date.now() - worker.startedAt;
    const delay = lived >= HEALTHY_LIFE_MS ? 0 : Math.min((restartDelay.get(worker.index) ?? 500) * 2, MAX_RESTART_DELAY_MS);
    restartDelay.set(worker.index, delay || 500);
    log.error("worker died; starting another", { worker: worker.index, pid: worker.process.pid, exit: signal ?? code, restart_in_ms: delay });
    setTimeout(() => {
      if (stopping) return;
      let starting: Promise<unknown>;
      try {
        starting = spawnWorker(worker.index, port);
      } catch (error) {
        // out of file descriptors or processes, say: try again later rather than die
        starting = Promise.reject(error);
        setTimeout(() => !stopping && restart({ ...worker, startedAt: Date.now() }, null, (error as Error).message), MAX_RESTART_DELAY_MS);
      }
      starting.then(
        () => log.info("worker restarted", { worker: worker.index }),
        (error: Error) => log.error("worker restart failed", { worker: worker.index, error: error.message }),
      );
    }, delay);
  }

  function answer(worker: Worker, message: Message, respond: Respond | undefined): void {
    try {
      switch (message.t) {
        case "hello":
          return worker.onHello?.();
        case "cooldown":
          return void relayCooldown(worker, message.cooldown as Cooldown).then(() => respond?.(true));
        case "admit":
          limiter.admit(message.client as LimitedClient);
          return respond?.(true);
        case "stream-open":
          return openSlot(worker, `${worker.index}:${message.slot as number}`, message.client as LimitedClient, respond!, 0);
        case "stream-close": {
          const slot = `${worker.index}:${message.slot as number}`;
          const release = slots.get(slot);
          if (release) release();
          else if (message.abandoned) abandoned.add(slot);
          return;
        }
        case "tokens":
          return limiter.addTokens(message.key as string, message.tokens as number);
        case "metrics":
          return void sumMetrics().then(respond, (error: Error) => respond?.(new Failure("internal", `metrics: ${error.message}`)));
        case "stopped":
          cutCount += message.cut as number;
          return;
      }
    } catch (error) {
      respond?.(error instanceof Failure ? error : new Failure("internal", (error as Error).message));
    }
  }

  /**
   * Hold a stream slot. A key at its limit is refused only after two short looks again: the
   * close of the stream its client just finished comes from another worker, over another
   * channel, and may arrive a moment after this open.
   */
  function openSlot(worker: Worker, slot: string, client: LimitedClient, respond: Respond, tries: number): void {
    // the worker gave up waiting for this answer and closed the slot already
    if (abandoned.delete(slot)) return respond(true);
    let release: () => void;
    try {
      release = limiter.openStream(client);
    } catch (error) {
      if (error instanceof Failure && error.kind === "rate_limited" && tries < 2) {
        setTimeout(() => openSlot(worker, slot, client, respond, tries + 1), 25);
        return;
      }
      return respond(error instanceof Failure ? error : new Failure("internal", (error as Error).message));
    }
    slots.set(slot, () => {
      slots.delete(slot);
      worker.slots.delete(slot);
      release();
    });
    worker.slots.add(slot);
    respond(true);
  }

  /** Tell every other worker; resolves when all have it (or could not be asked). */
  async function relayCooldown(from: Worker, cooldown: Cooldown): Promise<void> {
    health.coolUntil(cooldown);
    const others = [...workers.values()].filter((w) => w !== from && w.greeted);
    await Promise.allSettled(others.map((w) => w.link.request({ t: "cooldown", cooldown }, ASK_TIMEOUT_MS)));
  }

  async function sumMetrics(): Promise<string> {
    const { AggregatorRegistry } = await import("prom-client");
    const started = [...workers.values()].filter((w) => w.started);
    const each = await Promise.allSettled(started.map((w) => w.link.request<Parameters<typeof AggregatorRegistry.aggregate>[0][number]>({ t: "collect" }, ASK_TIMEOUT_MS)));
    const registries = each.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    return await AggregatorRegistry.aggregate(registries).metrics();
  }

  let first: { port: number; hostname: string };
  try {
    first = await spawnWorker(1, port);
    port = first.port;
    await Promise.all(Array.from({ length: count - 1 }, (_, i) => spawnWorker(i + 2, port)));
  } catch (error) {
    stopping = true;
    for (const worker of workers.values()) worker.process.kill("SIGKILL");
    throw error;
  }
  serving = true;

  return {
    server: first,
    reload(next) {
      if (next.server.workers !== config.server.workers || next.server.port !== config.server.port || next.server.host !== config.server.host) {
        log.warn("server.workers, port and host change only with a restart; the rest is reloaded");
      }
      config = next;
      for (const worker of workers.values()) worker.link.notify({ t: "config", config });
    },
    async drain(graceMs) {
      stopping = true;
      for (const worker of workers.values()) worker.link.notify({ t: "drain" });
      const all = Promise.all([...workers.values()].map((w) => w.exited));
      // a worker stuck past its own grace period (and the cut after it) is killed
      const late = setTimeout(() => {
        for (const worker of workers.values()) worker.process.kill("SIGKILL");
      }, graceMs + 5000);
      await all;
      clearTimeout(late);
      return cutCount;
    },
    cut() {
      for (const worker of workers.values()) worker.link.notify({ t: "cut" });
    },
  };
}

/**
 * SO_REUSEPORT would let our workers join a port another azure-proxy (same user) already serves,
 * sharing its traffic unnoticed; bind it once without that option to be sure it is free.
 */
function ensurePortFree(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", (error: NodeJS.ErrnoException) =>
      reject(new Error(error.code === "EADDRINUSE" ? `${host}:${port} is already in use` : `cannot listen on ${host}:${port}: ${error.message}`)),
    );
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}
