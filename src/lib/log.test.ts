import { afterEach, describe, expect, setSystemTime, test } from "bun:test";
import { createLogger, type LogFields } from "./log.ts";

function lineOf(fields: LogFields | undefined, format: "json" | "pretty" = "json"): string {
  const lines: string[] = [];
  createLogger("info", format, (line) => lines.push(line)).info("request", fields);
  return lines[0]!;
}

afterEach(() => setSystemTime());

describe("json lines", () => {
  // the format the access log has always had: the object below, stringified
  const reference = (time: number, fields: LogFields = {}) => JSON.stringify({ time: new Date(time).toISOString(), level: "info", msg: "request", ...fields });

  test("are exactly JSON.stringify of time, level, msg and the fields", () => {
    const cases: Array<LogFields | undefined> = [
      undefined,
      {},
      { a: undefined },
      { request_id: "r1", path: '/v1/"quoted"\n\u2028', status: 200, duration_ms: 1.5, end: undefined, ok: true, none: null },
      { nan: Number.NaN, inf: Number.POSITIVE_INFINITY, neg: -0, big: 1e21 },
      { msg: "shadowed", status: 1 },
      { time: "mine" },
      { level: "warn", x: undefined },
    ];
    for (const time of [0, 5, 42, 999, 1_795_686_386_559, 1_795_686_387_000, 1_795_686_387_001]) {
      setSystemTime(new Date(time));
      for (const fields of cases) expect(lineOf(fields)).toBe(reference(time, fields));
    }
  });

  test("the time moves on within a second and across seconds", () => {
    for (const time of [1_000_000_000_998, 1_000_000_000_999, 1_000_000_001_000, 1_000_000_001_010, 1_000_000_000_500]) {
      setSystemTime(new Date(time));
      expect(JSON.parse(lineOf({})).time).toBe(new Date(time).toISOString());
    }
  });
});

test("pretty lines show the time of day to the millisecond", () => {
  setSystemTime(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 67)));
  expect(lineOf({ status: 200, skipped: undefined }, "pretty")).toBe("03:04:05.067 INFO  request status=200");
});

test("fields every line carries come after the line's own", () => {
  const lines: string[] = [];
  const log = createLogger("info", "json", (line) => lines.push(line), { worker: 2 });
  log.info("request", { status: 200 });
  log.warn("bare");
  expect(JSON.parse(lines[0]!)).toMatchObject({ msg: "request", status: 200, worker: 2 });
  expect(Object.keys(JSON.parse(lines[0]!)).at(-1)).toBe("worker");
  expect(JSON.parse(lines[1]!)).toMatchObject({ msg: "bare", worker: 2 });
});
