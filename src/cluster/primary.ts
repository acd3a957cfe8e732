/**
 * `serve --workers N`: N worker processes (worker.ts) serve one port together (SO_REUSEPORT: the
 * kernel spreads new connections across them), and this primary process serves nothing itself.
 * It holds what must not diverge between workers: the config (loaded and validated here, sent
 * whole to every worker, at start and on reload) and the state in shared-state.ts. A worker that dies is started again (with the current config and cooldowns); stop signals
 * reach the primary, which drains every worker and exits when they have.
 */
import type { ChildProcess } from "node:child_process";
import { lazyBuiltin } from "../lib/lazy-builtin.ts";
import type { Config } from "../config/schema.ts";
import type { Logger } from "../lib/log.ts";
import type { RuntimeAdapter } from "../runtime/types.ts";
import { holdsSecret, RANDOM_SECRET } from "../realtime/ephemeral-keys.ts";
import { openOwners, openSpending } from "../state/open-state.ts";
import { Link, type Channel, type Respond } from "./link.ts";
import type { ToPrimary, ToWorker } from "./messages.ts";
import type { Peer } from "./peer.ts";
import { SharedState } from "./shared-state.ts";

const childProcess = lazyBuiltin<typeof import("node:child_process")>("node:child_process");
const net = lazyBuiltin<typeof import("node:net")>("node:net");

const START_TIMEOUT_MS = 20_000;
/** A worker that lived at least this long before dying is restarted at once, else after a backoff. */
const HEALTHY_LIFE_MS = 10_000;
const MAX_RESTART_DELAY_MS = 30_000;

interface Worker extends Peer {
  readonly process: ChildProcess;
  readonly startedAt: number;
  greeted: boolean;
  started: boolean;
  /** Called when the worker is ready for its start message. */
  onHello?: () => void;
  readonly exited: Promise<void>;
}

export interface WorkerPool {
  readonly server: { readonly port: number; readonly hostname: string };
  reload(config: Config): void;
  reloadFailed(issues: readonly string[]): void;
  drain(graceMs: number): Promise<number>;
  cut(): void;
}

/**
 * The config as workers get it: with no secret of its own to seal ephemeral keys with, this
 * process's random one, so that a key minted in one worker holds in all (realtime/ephemeral-keys.ts).
 */
function forWorkers(config: Config): Config {
  if (config.realtime.ephemeral_key_secret !== undefined || holdsSecret(config)) return config;
  return { ...config, realtime: { ...config.realtime, ephemeral_key_secret: RANDOM_SECRET } };
}

export async function startWorkers(initial: Config, count: number, runtime: RuntimeAdapter, log: Logger): Promise<WorkerPool> {
  let config = forWorkers(initial);
  const workers = new Map<number, Worker>();
  // the one writer of the usage ledger (state.path): workers send it their calls
  // (with Redis, workers talk to it themselves: this one stays empty)
  const spending = await openSpending(config.state.redis === undefined ? config : { ...config, state: { ...config.state, path: undefined } }, log);
  const owners = await openOwners(config);
  const shared = new SharedState(
    () => workers.values(),
    spending,
    owners,
    (answered, ms) => log.debug("metrics summed", { workers: answered, ms: Math.round(ms * 10) / 10 }),
  );
  let stopping = false;
  let serving = false;
  let cutCount = 0;
  const restartDelay = new Map<number, number>();

  if (config.server.port !== 0) await ensurePortFree(config.server.host, config.server.port);
  // the first worker finds the port when it is 0; the others then join it
  let port = config.server.port;
  const { argv, env } = runtime.selfCommand();

  function spawnWorker(index: number, port: number): Promise<{ port: number; hostname: string }> {
    const child = childProcess().spawn(argv[0]!, [...argv.slice(1), "worker"], {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      env: { ...process.env, ...env },
    });
    const { promise: started, resolve: ready, reject: failed } = Promise.withResolvers<{ port: number; hostname: string }>();
    const { promise: exited, resolve: gone } = Promise.withResolvers<void>();
    const worker: Worker = {
      index,
      process: child,
      // a worker we can no longer talk to cannot be told of cooldowns or reloads: replace it
      link: new Link<ToWorker, ToPrimary>(
        child as unknown as Channel,
        (message, respond) => answer(worker, message, respond),
        () => {
          if (!stopping && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
        },
      ),
      startedAt: Date.now(),
      greeted: false,
      started: false,
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
        .request<{ port: number; hostname: string }>({ t: "start", config, port, index, cooling: shared.cooling() }, START_TIMEOUT_MS)
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
      shared.forget(worker);
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

  function answer(worker: Worker, message: ToPrimary, respond: Respond | undefined): void {
    if (shared.answer(worker, message, respond)) return;
    if (message.t === "hello") worker.onHello?.();
    else if (message.t === "stopped") {
      cutCount += message.cut;
      respond?.(true);
    }
  }

  let first: { port: number; hostname: string };
  try {
    first = await spawnWorker(1, port);
    port = first.port;
    await Promise.all(Array.from({ length: count - 1 }, (_, i) => spawnWorker(i + 2, port)));
  } catch (error) {
    stopping = true;
    for (const worker of workers.values()) worker.process.kill("SIGKILL");
    await spending.close();
    throw error;
  }
  serving = true;

  return {
    server: first,
    reload(next) {
      if (next.server.workers !== config.server.workers || next.server.port !== config.server.port || next.server.host !== config.server.host) {
        log.warn("server.workers, port and host change only with a restart; the rest is reloaded");
      }
      config = forWorkers(next);
      spending.configure(next.prices);
      for (const worker of workers.values()) worker.link.notify({ t: "config", config });
    },
    reloadFailed(issues) {
      for (const worker of workers.values()) worker.link.notify({ t: "reload-failed", issues });
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
      // every worker has told its last call
      await spending.close();
      owners?.close();
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
    const probe = net().createServer();
    probe.once("error", (error: NodeJS.ErrnoException) =>
      reject(new Error(error.code === "EADDRINUSE" ? `${host}:${port} is already in use` : `cannot listen on ${host}:${port}: ${error.message}`)),
    );
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}
