/**
 * A structured logger: one JSON object per line (or a short human line on a TTY).
 * It never formats objects it was not given explicitly, so a key can only reach a line if a
 * caller passes it, and callers pass key *names*, never keys.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFormat = "json" | "pretty";
export type LogFields = Record<string, string | number | boolean | null | undefined>;

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

/**
 * `write`: `urgent` for a warning or an error, which a batching writer (log-writer.ts) writes at
 * once. `always`: fields every line carries after its own (a worker process's number).
 */
export function createLogger(level: LogLevel, format: LogFormat, write: (line: string, urgent: boolean) => void, always: LogFields = {}): Logger {
  const min = RANK[level];
  const extra = Object.keys(always).length > 0;
  const emit = (lvl: LogLevel, msg: string, own: LogFields = {}) => {
    if (RANK[lvl] < min) return;
    const fields = extra ? { ...own, ...always } : own;
    const urgent = RANK[lvl] >= RANK.warn;
    if (format === "json") {
      write(jsonLine(lvl, msg, fields), urgent);
      return;
    }
    const rest = Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ");
    write(`${isoNow().slice(11, 23)} ${lvl.toUpperCase().padEnd(5)} ${msg}${rest ? ` ${rest}` : ""}`, urgent);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
  };
}

/**
 * `JSON.stringify({ time, level, msg, ...fields })` without building that object: the fields
 * are stringified as given and spliced in after the three leading keys (the access log writes
 * a line per request). Field names are words, never integer-like (which JSON would order
 * first), so the order is the same; a field that shadows a leading key takes the slow way.
 */
function jsonLine(level: LogLevel, msg: string, fields: LogFields): string {
  if ("time" in fields || "level" in fields || "msg" in fields) return JSON.stringify({ time: isoNow(), level, msg, ...fields });
  const rest = JSON.stringify(fields);
  return `{"time":"${isoNow()}","level":"${level}","msg":${JSON.stringify(msg)}${rest.length > 2 ? `,${rest.slice(1)}` : "}"}`;
}

let stampSecond = Number.NaN;
let stampPrefix = "";

/** `new Date().toISOString()`, formatting the date only once a second. */
function isoNow(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== stampSecond) {
    stampSecond = second;
    stampPrefix = new Date(second * 1000).toISOString().slice(0, -4); // up to "ss."
  }
  const ms = now - second * 1000;
  return `${stampPrefix}${ms < 10 ? "00" : ms < 100 ? "0" : ""}${ms}Z`;
}

/** For tests and tools that must stay quiet. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
