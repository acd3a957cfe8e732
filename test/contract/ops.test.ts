/**
 * Operating the proxy: health and readiness, Prometheus metrics (names and labels as
 * docs/contract.md lists them, tokens metered from Azure's usage), the access log, per-key limits,
 * CORS, and a graceful stop.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { configFile } from "../harness/config-file.ts";
import { chatBody, post } from "../harness/fixture.ts";
import { waitFor } from "../harness/processes.ts";
import { proxyCommand, startProxy, type RunningProxy } from "../harness/proxy.ts";
import { startSimulator, type RunningSimulator } from "../harness/simulator.ts";
import { contentOf, readEvents } from "../harness/sse.ts";

const KEY = "ops-test-key";
let sim: RunningSimulator;
let proxy: RunningProxy;

beforeAll(async () => {
  sim = await startSimulator();
  const file = configFile({
    upstreams: [
      {
        name: "main",
        endpoint: sim.url,
        api_key: sim.key,
        api_version: "2024-10-21",
        deployments: { "gpt-4o": "gpt-4o", "gpt-4.1": "gpt-4.1" },
        any_model: true,
      },
    ],
    keys: [
      { name: "team", key: KEY },
      { name: "slow-lane", key: "rpm-key", rpm: 3 },
      { name: "thrifty", key: "tpm-key", tpm: 30 },
      { name: "one-stream", key: "stream-key", max_streams: 1 },
    ],
    cors: { origins: ["https://chat.example.com"] },
  });
  proxy = await startProxy({ args: ["serve", "--config", file.path] });
});
afterAll(async () => {
  await proxy.stop();
  await sim.stop();
});
const chat = (content: string, extra: Record<string, unknown> = {}, key = KEY, headers: Record<string, string> = {}) =>
  post(`${proxy.url}/v1/chat/completions`, chatBody(content, extra), { authorization: `Bearer ${key}`, ...headers });
const metricsText = async () => (await fetch(`${proxy.url}/metrics`)).text();
/** With several workers (server.workers auto on a multi-core host) a sum is up to a second old. */
async function metricsUntil(check: (text: string) => boolean): Promise<string> {
  const deadline = Date.now() + 3000;
  let text = await metricsText();
  while (!check(text) && Date.now() < deadline) {
    await Bun.sleep(100);
    text = await metricsText();
  }
  return text;
}
const value = (text: string, series: string) => Number(new RegExp(`^${series.replace(/[{}()[\].*+?^$|\\]/g, "\\$&")} (\\S+)$`, "m").exec(text)?.[1] ?? "NaN");

describe("health and readiness", () => {
  test("/healthz and /readyz answer without a key", async () => {
    expect((await fetch(`${proxy.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${proxy.url}/readyz`);
    expect(ready.status).toBe(200);
    expect((await ready.json()).upstreams).toEqual(["main"]);
  });
});

describe("metrics", () => {
  test("every metric of the contract, with its labels", async () => {
    await chat("hi");
    await (await chat("hi", { stream: true })).text();
    const text = await metricsUntil((t) => t.includes('kind="prompt"') && t.includes("azure_proxy_inflight_streams 0"));
    expect(text).toContain('azure_proxy_requests_total{route="chat.completions",model="gpt-4o",upstream="main",status="200"}');
    expect(text).toContain('azure_proxy_request_duration_seconds_bucket{le="0.05",route="chat.completions",model="gpt-4o"}');
    expect(text).toContain('azure_proxy_time_to_first_token_seconds_count{model="gpt-4o"}');
    expect(text).toContain('azure_proxy_upstream_attempts_total{upstream="main",deployment="gpt-4o",outcome="ok"}');
    expect(text).toContain('azure_proxy_tokens_total{key="team",model="gpt-4o",kind="prompt"}');
    expect(text).toContain("azure_proxy_inflight_requests ");
    expect(text).toContain("azure_proxy_inflight_streams 0");
    expect(text).toContain("# TYPE azure_proxy_upstream_cooldown gauge");
  });

  test("tokens come from Azure's usage: JSON, streams with and without include_usage", async () => {
    const series = 'azure_proxy_tokens_total{key="team",model="gpt-4.1",kind="completion"}';
    const before = value(await metricsText(), series) || 0;
    const plain = await (await chat("[sim reply=one_two_three]", { model: "gpt-4.1" })).json();
    expect(plain.usage.completion_tokens).toBe(3);
    // the client did not ask for usage: the proxy asked Azure, counted it, and took it out again
    const events = await readEvents(await chat("[sim reply=four_five]", { model: "gpt-4.1", stream: true }));
    expect(contentOf(events)).toBe("four five");
    expect(events.some((e) => e.data.includes('"usage"'))).toBe(false);
    expect(JSON.parse(sim.recorder.all().at(-1)!.bodyText).stream_options).toEqual({ include_usage: true });
    // the client asked for usage: it gets it
    const asked = await readEvents(await chat("[sim reply=six]", { model: "gpt-4.1", stream: true, stream_options: { include_usage: true } }));
    expect(JSON.parse(asked.at(-2)!.data).usage.completion_tokens).toBe(1);
    const after = await metricsUntil((text) => value(text, series) - before >= 6);
    expect(value(after, series) - before).toBe(3 + 2 + 1);
  });

  test("a 429 shows as an attempt outcome and a cooldown; unknown models do not become labels", async () => {
    await chat("[sim status=429 retry_after=30]", { model: "gpt-4.1" });
    await chat("x", { model: `random-${crypto.randomUUID()}` });
    const text = await metricsUntil((t) => t.includes('outcome="429"') && t.includes('model="other"'));
    expect(text).toContain('azure_proxy_upstream_attempts_total{upstream="main",deployment="gpt-4.1",outcome="429"} 1');
    expect(text).toContain('azure_proxy_upstream_cooldown{upstream="main",deployment="gpt-4.1"} 1');
    expect(text).toContain('model="other"');
    expect(text).not.toContain("random-");
  });

  test("the access log has one line per request with the facts and no secret", async () => {
    const marker = crypto.randomUUID();
    await (await chat("log me", { model: "gpt-4o" }, KEY, { "x-request-id": marker })).text();
    // the line is written when the answer has ended, which may be a moment after the client read it
    let line: string | undefined;
    for (let i = 0; i < 100 && !line; i++, await Bun.sleep(20))
      line = proxy
        .output()
        .split("\n")
        .find((l) => l.includes(marker) && l.includes('"msg":"request"'));
    const last = JSON.parse(line!);
    expect(last).toMatchObject({ key: "team", model: "gpt-4o", upstream: "main", deployment: "gpt-4o", status: 200, route: "chat.completions", attempts: 1 });
    expect(last.duration_ms).toBeGreaterThan(0);
    expect(last.prompt_tokens).toBeGreaterThan(0);
    expect(proxy.output()).not.toContain(KEY);
    expect(proxy.output()).not.toContain(sim.key);
  });
});

describe("per-key limits", () => {
  test("rpm: the fourth request in a minute is a 429 with retry-after", async () => {
    for (let i = 0; i < 3; i++) expect((await chat("x", {}, "rpm-key")).status).toBe(200);
    const limited = await chat("x", {}, "rpm-key");
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeWithin(1, 61);
    expect((await limited.json()).error.code).toBe("rate_limit_exceeded");
    expect((await chat("x")).status).toBe(200); // other keys are not affected
  });

  test("tpm: once a minute's tokens reach the limit, the next request is refused", async () => {
    expect((await chat("x [sim reply=a_b_c_d_e_f_g_h_i_j_k_l_m_n_o_p_q_r_s_t_u_v_w_x_y_z]", {}, "tpm-key")).status).toBe(200);
    const limited = await chat("x", {}, "tpm-key");
    expect(limited.status).toBe(429);
    expect((await limited.json()).error.message).toContain("30 tokens per minute");
  });

  test("max_streams: a second concurrent stream is refused; the slot comes back", async () => {
    const first = await chat("[sim chunk_ms=100]", { stream: true }, "stream-key");
    expect(first.status).toBe(200);
    const second = await chat("x", { stream: true }, "stream-key");
    expect(second.status).toBe(429);
    await first.text();
    expect((await chat("x", { stream: true }, "stream-key")).status).toBe(200);
  });
});

describe("CORS", () => {
  test("a listed origin's preflight is answered, SDK headers allowed, no key needed", async () => {
    const response = await fetch(`${proxy.url}/v1/chat/completions`, {
      method: "OPTIONS",
      headers: {
        origin: "https://chat.example.com",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type,x-stainless-os",
      },
    });
    expect(response.status).toBeLessThan(300);
    expect(response.headers.get("access-control-allow-origin")).toBe("https://chat.example.com");
    expect(response.headers.get("access-control-allow-headers")).toContain("x-stainless-os");
    const real = await post(`${proxy.url}/v1/chat/completions`, chatBody("x"), { authorization: `Bearer ${KEY}`, origin: "https://chat.example.com" });
    expect(real.headers.get("access-control-allow-origin")).toBe("https://chat.example.com");
  });

  test("another origin gets no CORS grant", async () => {
    const response = await post(`${proxy.url}/v1/chat/completions`, chatBody("x"), { authorization: `Bearer ${KEY}`, origin: "https://evil.example.com" });
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("life-cycle", () => {
  test("SIGTERM: stops taking connections, lets the stream in flight finish, exits 0", async () => {
    const s = await startSimulator();
    const file = configFile({
      upstreams: [{ name: "m", endpoint: s.url, api_key: s.key, deployments: { "gpt-4o": "gpt-4o" } }],
      keys: [{ name: "t", key: KEY }],
      shutdown: { grace_ms: 10_000 },
    });
    const p = await startProxy({ args: ["serve", "--config", file.path] });
    try {
      const stream = await post(`${p.url}/v1/chat/completions`, chatBody("[sim chunk_ms=150 reply=finishing_in_flight]", { stream: true }), {
        authorization: `Bearer ${KEY}`,
      });
      process.kill(p.pid, "SIGTERM");
      await Bun.sleep(200);
      const refused = await fetch(`${p.url}/healthz`).then(
        (r) => r.status,
        () => "refused",
      );
      expect(refused).toBe("refused");
      expect(contentOf(await readEvents(stream))).toBe("finishing in flight");
      expect(await p.stop()).toBe(0);
      expect(p.output()).toContain('"msg":"draining"');
    } finally {
      await s.stop();
    }
  });

  test("start-up memory is handed back once, 10 s after the last call ended: a stream in flight holds it back, probes do not; once more after a reload", async () => {
    const s = await startSimulator();
    const file = configFile({
      upstreams: [{ name: "m", endpoint: s.url, api_key: s.key, deployments: { "gpt-4o": "gpt-4o" } }],
      keys: [{ name: "t", key: KEY }],
    });
    // one process: with workers each releases its own
    const p = await startProxy({ args: ["serve", "--config", file.path], env: { LOG_LEVEL: "debug", AZURE_PROXY_WORKERS: "1" } });
    const released = () =>
      p
        .output()
        .split("\n")
        .filter((line) => line.includes('"msg":"start-up memory released"'));
    const onDeno = proxyCommand().some((part) => part.includes("deno"));
    let probing = true;
    const probes = (async () => {
      while (probing) {
        expect((await fetch(`${p.url}/healthz`)).status).toBe(200);
        await Bun.sleep(400);
      }
    })();
    try {
      // six chunks 2 s apart: longer than the 10 s of quiet, with no other request started
      const stream = await post(`${p.url}/v1/chat/completions`, chatBody("[sim chunk_ms=2000 reply=one_two_three_four_five_six]", { stream: true }), {
        authorization: `Bearer ${KEY}`,
      });
      expect(contentOf(await readEvents(stream))).toBe("one two three four five six");
      expect(released()).toEqual([]);
      if (onDeno) {
        // Deno has no way to release it: nothing is claimed
        await Bun.sleep(12_000);
      } else {
        await waitFor(() => released().length > 0, 15_000, "the release log line");
        const line = JSON.parse(released()[0]!);
        expect(line.rss_mb_after).toBeLessThan(line.rss_mb_before);
        // once: the checks stop (more than two of them, with no request, before the count)
        await Bun.sleep(2500);
      }
      expect(released().length).toBe(onDeno ? 0 : 1);
      const answer = await post(`${p.url}/v1/chat/completions`, chatBody("[sim reply=still_answering]"), { authorization: `Bearer ${KEY}` });
      expect(answer.status).toBe(200);
      expect((await answer.json()).choices[0].message.content).toBe("still answering");
      if (onDeno) return;
      // a reload builds the app again: the wait starts over and releases once more
      file.write({
        upstreams: [{ name: "m", endpoint: s.url, api_key: s.key, deployments: { "gpt-4o": "gpt-4o", "gpt-4.1": "gpt-4.1" } }],
        keys: [{ name: "t", key: KEY }],
      });
      await waitFor(() => p.output().includes('"msg":"config reloaded"'), 5000, "the reload");
      await waitFor(() => released().length > 1, 15_000, "the release after the reload");
      expect(released().length).toBe(2);
    } finally {
      probing = false;
      await probes;
      await p.stop();
      await s.stop();
    }
  }, 60_000);

  test("a stream longer than the grace period is cut at its end, and the process still exits 0", async () => {
    const s = await startSimulator();
    const file = configFile({
      upstreams: [{ name: "m", endpoint: s.url, api_key: s.key, deployments: { "gpt-4o": "gpt-4o" } }],
      keys: [{ name: "t", key: KEY }],
      shutdown: { grace_ms: 500 },
    });
    const p = await startProxy({ args: ["serve", "--config", file.path] });
    try {
      const stream = await post(`${p.url}/v1/chat/completions`, chatBody("[sim chunk_ms=1000]", { stream: true }), { authorization: `Bearer ${KEY}` });
      const started = Date.now();
      process.kill(p.pid, "SIGTERM");
      expect(await p.stop()).toBe(0);
      expect(Date.now() - started).toBeLessThan(3000);
      await stream.text().catch(() => "cut");
      expect(p.output()).toContain('"cut_at_grace_end":1');
    } finally {
      await s.stop();
    }
  });
});
