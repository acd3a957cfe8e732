/**
 * SIGHUP's default action ends the process. A serving process catches it from main.ts's first
 * line, before its config is read and before the modules that serve are loaded: the systemd
 * unit (deploy/azure-proxy.service) is Type=exec, so `systemctl reload` may come the moment the
 * binary runs, and with Restart=on-failure a death by SIGHUP (a "clean" signal to systemd) is
 * not restarted: the service would just be gone. One that comes before the proxy runs is kept
 * and taken once it does (serve.ts); it is never left to the default again.
 * What no JavaScript can cover is the runtime's own boot before main.ts runs (a few ms), and a
 * start that re-executes itself (runtime/bun.ts raises the fetch cap so, when the unit or the
 * image has not set BUN_CONFIG_MAX_HTTP_REQUESTS): the new process reads the config afresh, so
 * a hang-up caught before the exec has nothing left to reload.
 */
let caught = false;
let pending = false;
let handler: (() => void) | undefined;

/** From now on no SIGHUP ends this process; one with no handler yet is kept for `onHangUp`. */
export function catchHangUps(): void {
  if (caught) return;
  caught = true;
  process.on("SIGHUP", () => {
    if (handler) handler();
    else pending = true;
  });
}

/** Every SIGHUP from now on calls `next`. True when one came before it was set (it is not replayed). */
export function onHangUp(next: () => void): boolean {
  catchHangUps();
  handler = next;
  const came = pending;
  pending = false;
  return came;
}

/**
 * The command lines that serve (as cli/index.ts dispatches them): the ones a SIGHUP must not end.
 * `--help` and `--version` match too, and print and exit at once; `demo` does not: it runs in a
 * terminal, and closing that should end it.
 */
export function serves(argv: readonly string[]): boolean {
  const [first] = argv;
  return first === undefined || first === "serve" || first === "worker" || first.startsWith("--");
}
