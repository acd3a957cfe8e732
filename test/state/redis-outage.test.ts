/**
 * The Redis state's usage batches through a real redis-server going away and coming back:
 * during the outage what is used is summed in memory (at most one batch waits, however long it
 * lasts), and once Redis answers again every call is in the ledger and the spent totals exactly once.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Counter, Registry } from "prom-client";
import { type Logger, silentLogger } from "../../src/lib/log.ts";
import { RedisConnection } from "../../src/state/redis/connection.ts";
import { RedisKeys } from "../../src/state/redis/keys.ts";
import { RedisState } from "../../src/state/redis/redis-state.ts";
import { utcDay } from "../../src/state/usage-row.ts";
import { type RunningRedis, startRedis } from "../harness/redis.ts";

let redis: RunningRedis;
let state: RedisState;
let connection: RedisConnection;
const keys = new RedisKeys("outage:");

beforeAll(async () => {
  redis = await startRedis();
  const errors = new Counter({ name: "state_errors", help: "-", labelNames: ["operation"], registers: [new Registry()] });
  connection = new RedisConnection(redis.url, silentLogger, errors);
  state = new RedisState(connection, keys, { "gpt-4o": { input: 1, output: 2 } }, Date.now, silentLogger);
  while (!connection.ready) await Bun.sleep(10);
});
afterAll(async () => {
  await state.close();
  await redis.stop();
});

const call = (i: number) => ({ key: "team", model: "gpt-4o", upstream: i % 2 ? "east" : "west", prompt: 10, cached: 0, completion: 5, at: Date.now() });

test("an outage of many batch intervals holds one waiting batch; after it, every call counted once", async () => {
  state.record(call(0));
  await state.flush();
  expect(state.unsentBatches).toBe(0);

  await redis.kill();
  while (connection.ready) await Bun.sleep(10);
  for (let i = 1; i <= 200; i++) {
    state.record(call(i));
    await state.flush();
  }
  // 200 flushes failed: one batch waits, the rest is summed behind it
  expect(state.unsentBatches).toBe(1);

  await redis.restart();
  const deadline = Date.now() + 10_000;
  while (!connection.ready && Date.now() < deadline) await Bun.sleep(20);
  await state.flush();
  expect(state.unsentBatches).toBe(0);
  await state.flush();

  const rows = await state.report(utcDay(Date.now()), utcDay(Date.now()));
  const byUpstream = Object.fromEntries(rows.map((r) => [r.upstream, [r.requests, r.prompt, r.completion]]));
  expect(byUpstream).toEqual({ west: [101, 1010, 505], east: [100, 1000, 500] });
  const spent = await connection.client.hgetall(keys.spent("team", utcDay(Date.now())));
  expect(Number(spent.t)).toBe(201 * 15);
  expect(Number(spent.c)).toBeCloseTo((201 * (10 * 1 + 5 * 2)) / 1e6, 12);
});

test("stopped while Redis is away: the log line says how many calls and tokens are lost", async () => {
  const errors = new Counter({ name: "state_errors_2", help: "-", labelNames: ["operation"], registers: [new Registry()] });
  const lines: Array<[string, unknown]> = [];
  const log: Logger = { ...silentLogger, error: (msg, fields) => lines.push([msg, fields]) };
  const own = new RedisConnection(redis.url, silentLogger, errors);
  const stopping = new RedisState(own, new RedisKeys("outage-stop:"), {}, Date.now, log);
  while (!own.ready) await Bun.sleep(10);
  await redis.kill();
  while (own.ready) await Bun.sleep(10);
  for (let i = 0; i < 3; i++) {
    stopping.record(call(i));
    await stopping.flush();
  }
  await stopping.close();
  await redis.restart();
  expect(lines).toEqual([["state: Redis is unavailable at stop; the usage of the last calls is lost", { requests: 3, tokens: 45 }]]);
});
