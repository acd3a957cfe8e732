import { stdoutLines } from "../lib/log-writer.ts";
import { loadConfig, type CliOverrides } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { createLogger, type Logger } from "../lib/log.ts";
import type { RuntimeAdapter } from "../runtime/types.ts";
import { usableCores } from "../cluster/usable-cores.ts";
import { VERSION } from "../version.ts";
import { parseFlags, portFlag, workersFlag } from "./args.ts";
import { watchConfigFile } from "./config-watch.ts";
import { catchHangUps, onHangUp } from "./hang-ups.ts";
import { stopSignals } from "./signals.ts";
import { readTlsFiles } from "../app/tls-files.ts";
import type { ProxyServer } from "../app/start-proxy.ts";

/** What serve runs: one proxy in this process, or a pool of worker processes. */
type Serving = Pick<ProxyServer, "reload" | "reloadFailed" | "drain" | "cut"> & { readonly server: { readonly port: number; readonly hostname: string } };

export async function serveCommand(args: string[], runtime: RuntimeAdapter): Promise<number> {
  // main.ts caught them already; a caller that did not come through it is covered from here
  catchHangUps();
  const flags = parseFlags(args, {
    config: { type: "string" },
    port: { type: "string" },
    host: { type: "string" },
    workers: { type: "string" },
    "insecure-no-auth": { type: "boolean" },
  });
  const cli: CliOverrides = {
    configPath: flags.config,
    port: portFlag(flags.port),
    host: flags.host,
    workers: workersFlag(flags.workers),
    insecureNoAuth: flags["insecure-no-auth"],
  };
  const load = () => loadConfig({ env: process.env, cli, stdoutIsTTY: process.stdout.isTTY === true });
  const loaded = load();
  if (!loaded.ok) {
    for (const issue of loaded.issues) console.error(`azure-proxy: invalid configuration: ${issue}`);
    return 2;
  }
  const { config } = loaded;
  try {
    readTlsFiles(config.server.tls);
  } catch (error) {
    console.error(`azure-proxy: invalid configuration: ${(error as Error).message}`);
    return 2;
  }
  const workers = config.server.workers === "auto" ? usableCores() : config.server.workers;
  // before anything else that lasts: this may replace the process (same pid) and start over;
  // worker processes are started fit to serve instead
  const preparation = workers === 1 ? runtime.prepareForServing() : undefined;
  const signals = stopSignals();
  const log = createLogger(config.log.level, config.log.format, stdoutLines().write);
  if (preparation) log.warn(preparation);
  warnIfOpen(config, log);
  let proxy: Serving;
  try {
    proxy = await start(config, workers, runtime, log);
  } catch (error) {
    log.error("could not start", { error: (error as Error).message });
    return 1;
  }
  // the config now running: a reload may change shutdown.grace_ms, which the drain must use
  let current = config;
  const reloadNow = (reason: string) => {
    const next = reload(proxy, load, log, reason);
    if (next) current = next;
  };
  // watching before saying we listen: a change made right after that is seen
  const stopWatching = loaded.file ? reloadOnChange(loaded.file, reloadNow, log) : () => {};
  // never let go: a SIGHUP during a drain (a config tool, a closing terminal) must not cut the
  // streams the drain waits for
  let draining = false;
  const hangUpDuringStart = onHangUp(() => {
    if (draining) log.warn("SIGHUP while draining: ignored, the config is not reloaded");
    else reloadNow("SIGHUP");
  });
  log.info("listening", {
    url: `${config.server.tls ? "https" : "http"}://${proxy.server.hostname}:${proxy.server.port}`,
    version: VERSION,
    runtime: `${runtime.name} ${runtime.version}`,
    workers,
    config: loaded.file ?? "environment",
    upstreams: config.upstreams.map((u) => u.name).join(","),
  });
  if (hangUpDuringStart) {
    log.info("SIGHUP came during start-up: reloading now");
    reloadNow("SIGHUP");
  }
  const signal = await signals.first;
  draining = true;
  stopWatching();
  // Stop taking requests, turn /readyz 503 so load balancers move away, let requests and
  // streams in flight finish within the grace period, then exit 0 (a deliberate stop).
  const graceMs = current.shutdown.grace_ms;
  log.info("draining", { signal, grace_ms: graceMs });
  // a second signal (Ctrl-C again, an impatient supervisor) means now
  signals.onAgain((again) => {
    log.warn("stopping now", { signal: again });
    proxy.cut();
  });
  const cut = await proxy.drain(graceMs);
  log.info("stopped", { cut_at_grace_end: cut });
  signals.dispose();
  return 0;
}

// imported when needed: a primary process that only supervises workers stays small
async function start(config: Config, workers: number, runtime: RuntimeAdapter, log: Logger): Promise<Serving> {
  if (workers === 1) return (await import("../app/start-proxy.ts")).startProxy(config, runtime, log);
  return (await import("../cluster/primary.ts")).startWorkers(config, workers, runtime, log);
}

/** Load again; a valid config replaces the running one (and is returned), an invalid one is logged and ignored. */
function reload(proxy: Serving, load: () => ReturnType<typeof loadConfig>, log: Logger, reason: string): Config | undefined {
  const loaded = load();
  if (!loaded.ok) {
    log.error("config reload failed; keeping the running config", { reason, issues: loaded.issues.join("; ") });
    proxy.reloadFailed(loaded.issues);
    return undefined;
  }
  warnIfOpen(loaded.config, log);
  proxy.reload(loaded.config);
  log.info("config reloaded", { reason, upstreams: loaded.config.upstreams.map((u) => u.name).join(","), grace_ms: loaded.config.shutdown.grace_ms });
  return loaded.config;
}

/** Reload when the file changes (config-watch.ts says how a change is noticed). */
function reloadOnChange(file: string, reloadNow: (reason: string) => void, log: Logger): () => void {
  try {
    return watchConfigFile(file, () => reloadNow("file changed"));
  } catch (error) {
    log.warn("cannot watch the config file; reload with SIGHUP", { file, error: (error as Error).message });
    return () => {};
  }
}

function warnIfOpen(config: Config, log: Logger): void {
  if (config.auth.insecure_no_auth) log.warn("serving WITHOUT client keys (--insecure-no-auth): anyone who reaches this port spends your Azure quota");
}
