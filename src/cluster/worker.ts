/**
 * One worker process of `serve --workers N`: the whole proxy, serving on the shared port, tied
 * to the primary over IPC. It takes orders only from the primary: stop signals sent to the whole
 * process group (Ctrl-C, systemd's SIGTERM to every process of the unit) are ignored here, since
 * the primary turns them into one orderly "drain" for all. A worker whose primary is gone drains
 * and exits by itself, so none outlives a killed primary.
 */
import { stdoutLines } from "../lib/log-writer.ts";
import type { Config } from "../config/schema.ts";
import { Failure } from "../lib/failure.ts";
import { createLogger } from "../lib/log.ts";
import type { RuntimeAdapter } from "../runtime/types.ts";
import type { StatusPart } from "../status/status-part.ts";
import type { Cooldown } from "../upstream/health.ts";
import { startProxy, type ProxyServer } from "../app/start-proxy.ts";
import { Link, type Channel, type Respond } from "./link.ts";
import type { ToPrimary, ToWorker } from "./messages.ts";
import { SharedLimits } from "./shared-limits.ts";
import { withSpoolShare } from "./spool-share.ts";
import { SharedOwners } from "./shared-owners.ts";
import { SharedSpending } from "./shared-spending.ts";

/** Long enough for a primary busy collecting metrics; a dead primary closes the link at once. */
const TELL_TIMEOUT_MS = 2000;
const METRICS_TIMEOUT_MS = 10_000;
const STATUS_TIMEOUT_MS = 5000;

export async function runWorker(runtime: RuntimeAdapter): Promise<number> {
  if (!process.send) {
    console.error("azure-proxy: `worker` is started by `serve --workers N`, not by hand");
    return 2;
  }
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => {});

  let proxy: ProxyServer | undefined;
  let config: Config | undefined;
  let stopping: Promise<void> | undefined;
  // cooldowns told between our hello and our start; applied once the proxy exists
  const early: Cooldown[] = [];
  let stopped!: () => void;
  const exited = new Promise<void>((resolve) => (stopped = resolve));

  // the primary gone (its channel closed or broken): finish what we serve and exit
  const link: Link<ToPrimary, ToWorker> = new Link<ToPrimary, ToWorker>(
    process as unknown as Channel,
    (message, respond) => {
      switch (message.t) {
        case "start":
          void start(message, respond!);
          return;
        case "config":
          config = message.config;
          proxy?.reload(withSpoolShare(config));
          return;
        case "cooldown":
          if (proxy) proxy.health.coolUntil(message.cooldown);
          else early.push(message.cooldown);
          respond?.(true);
          return;
        case "collect":
          if (proxy) proxy.metrics.registry.getMetricsAsJSON().then(respond, () => respond?.([]));
          else respond?.([]);
          return;
        case "reload-failed":
          proxy?.reloadFailed(message.issues);
          return;
        case "status-part":
          if (proxy) proxy.statusPart().then(respond, (error: Error) => respond?.(new Failure("internal", error.message)));
          else respond?.(new Failure("internal", "not serving yet"));
          return;
        case "drain":
          void stop();
          return;
        case "cut":
          proxy?.cut();
          return;
      }
    },
    () => void stop(),
  );

  async function start(message: Extract<ToWorker, { t: "start" }>, respond: Respond): Promise<void> {
    const initial = message.config;
    config = initial;
    // which worker wrote a line: for a crash, a slow worker, an uneven spread
    const log = createLogger(config.log.level, config.log.format, stdoutLines().write, { worker: message.index });
    try {
      proxy = await startProxy({ ...withSpoolShare(config), server: { ...config.server, port: message.port } }, runtime, log, {
        tell: (cooldown) => link.request<void>({ t: "cooldown", cooldown }, TELL_TIMEOUT_MS).catch(() => {}),
        limits: new SharedLimits(link),
        renderMetrics: () => link.request<string>({ t: "metrics" }, METRICS_TIMEOUT_MS),
        spending: new SharedSpending(link),
        owners: new SharedOwners(link),
        statusParts: () => link.request<StatusPart>({ t: "status" }, STATUS_TIMEOUT_MS),
      });
    } catch (error) {
      // cannot listen: the primary reports it and stops
      respond(new Failure("internal", (error as Error).message));
      stopped();
      return;
    }
    for (const cooldown of [...message.cooling, ...early]) proxy.health.coolUntil(cooldown);
    // a reload that came while we were starting
    if (config !== initial) proxy.reload(config);
    respond({ port: proxy.server.port, hostname: proxy.server.hostname });
  }

  function stop(): Promise<void> {
    stopping ??= (async () => {
      const cut = proxy && config ? await proxy.drain(config.shutdown.grace_ms) : 0;
      // asked, not told: the answer proves the primary has the count, and everything told before
      // it on the same ordered channel (usage entries, tokens), before this process exits
      // (Deno's IPC dropped a message sent just before exit: ops.test.ts, "a stream longer than
      // the grace period", cut_at_grace_end 0 with the stream cut); a primary gone answers never
      await link.request({ t: "stopped", cut }, TELL_TIMEOUT_MS).catch(() => {});
      stopped();
    })();
    return stopping;
  }

  // where no "disconnect" comes (Deno, after a failed send), a new parent says it all the same
  const parent = process.ppid;
  const orphaned = setInterval(() => process.ppid !== parent && link.close(), 1000);
  orphaned.unref?.();
  link.notify({ t: "hello" });
  await exited;
  return 0;
}
