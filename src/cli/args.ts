/** Command-line parsing shared by the subcommands; a bad flag is exit 2 with the usage text. */
import { parseArgs, type ParseArgsConfig } from "node:util";

export class UsageError extends Error {}

export function parseFlags<T extends NonNullable<ParseArgsConfig["options"]>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function portFlag(value: string | undefined, flag = "--port"): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!/^\d{1,5}$/.test(value) || port > 65535) throw new UsageError(`${flag}: must be a port number 0-65535, got "${value}"`);
  return port;
}

export function workersFlag(value: string | undefined): number | "auto" | undefined {
  if (value === undefined || value === "auto") return value;
  const count = Number(value);
  if (!/^\d{1,3}$/.test(value) || count < 1 || count > 256) throw new UsageError(`--workers: must be auto or a process count 1-256, got "${value}"`);
  return count;
}
