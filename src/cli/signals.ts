/**
 * Stop signals (SIGTERM, SIGINT), handled from the start so none can reach the default action
 * (death with exit 143) at any moment: the first one starts the stop, any later one means "now".
 */
export interface StopSignals {
  /** Resolves with the first signal's name. */
  readonly first: Promise<string>;
  /** Run `fn` on every signal after the first. */
  onAgain(fn: (signal: string) => void): void;
  /** Remove the handlers (the server has stopped). */
  dispose(): void;
}

export function stopSignals(): StopSignals {
  let count = 0;
  let resolveFirst: (signal: string) => void;
  const first = new Promise<string>((resolve) => (resolveFirst = resolve));
  const again: Array<(signal: string) => void> = [];
  const handle = (signal: string) => {
    if (count++ === 0) resolveFirst(signal);
    else for (const fn of again) fn(signal);
  };
  const onTerm = () => handle("SIGTERM");
  const onInt = () => handle("SIGINT");
  process.on("SIGTERM", onTerm);
  process.on("SIGINT", onInt);
  return {
    first,
    onAgain: (fn) => void again.push(fn),
    dispose() {
      process.off("SIGTERM", onTerm);
      process.off("SIGINT", onInt);
    },
  };
}

/** For the subcommands that simply stop on the first signal. */
export function untilStopSignal(): Promise<string> {
  return stopSignals().first;
}
