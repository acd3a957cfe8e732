/**
 * Live reload: SIGHUP (or a change to the file) loads the new config; an invalid one is logged
 * and the running one stays; requests and streams in flight finish on the config they began
 * with; no request fails while reloads happen under load.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { configFile } from "../harness/config-file.ts";
import { chatBody, post } from "../harness/fixture.ts";
import { startProxy, type RunningProxy } from "../harness/proxy.ts";
import { startSimulator, type RunningSimulator } from "../harness/simulator.ts";
import { contentOf, readEvents } from "../harness/sse.ts";

const KEY = "reload-test-key";
let a: RunningSimulator;
let b: RunningSimulator;
beforeAll(async () => {
  a = await startSimulator({ name: "a" });
  b = await startSimulator({ name: "b" });
});
afterAll(async () => {
  await a.stop();
  await b.stop();
});

const configOn = (sim: RunningSimulator, models: Record<string, string> = { "gpt-4o": "gpt-4o" }) => ({
  upstreams: [{ name: "only", endpoint: sim.url, api_key: sim.key, deployments: models }],
  keys: [{ name: "t", key: KEY }],
});

async function until(check: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await Bun.sleep(25);
  }
}

describe("reload", () => {
  let proxy: RunningProxy;
  let file: ReturnType<typeof configFile>;
  beforeAll(async () => {
    file = configFile(configOn(a));
    proxy = await startProxy({ args: ["serve", "--config", file.path] });
  });
  afterAll(() => proxy.stop());
  const chat = (model = "gpt-4o", text = "hi", extra = {}) =>
    post(`${proxy.url}/v1/chat/completions`, chatBody(text, { model, ...extra }), { authorization: `Bearer ${KEY}` });

  test("a file change switches upstreams; a stream in flight finishes on the old one", async () => {
    const marker = crypto.randomUUID();
    const inFlight = chat("gpt-4o", `${marker} [sim chunk_ms=100 reply=old_config_answer]`, { stream: true });
    await a.recorder.waitFor((r) => r.bodyText.includes(marker));
    file.write(configOn(b));
    await until(() => proxy.output().includes('"msg":"config reloaded"'));
    expect(contentOf(await readEvents(await inFlight))).toBe("old config answer");
    const after = crypto.randomUUID();
    expect((await chat("gpt-4o", after)).status).toBe(200);
    expect(b.recorder.all().some((r) => r.bodyText.includes(after))).toBe(true);
  });

  test("an invalid config is logged and the running one stays", async () => {
    file.write("upstreams: [ {name: broken");
    await until(() => proxy.output().includes('"msg":"config reload failed; keeping the running config"'));
    expect((await chat()).status).toBe(200);
  });

  test("SIGHUP reloads (a new model appears)", async () => {
    file.write(configOn(b, { "gpt-4o": "gpt-4o", "my-mini": "gpt-4o-mini" }));
    await Bun.sleep(400); // let the file watcher settle first, so the SIGHUP reload is the one counted
    const before = proxy.output().split('"msg":"config reloaded"').length;
    process.kill(proxy.pid, "SIGHUP");
    await until(() => proxy.output().split('"msg":"config reloaded"').length > before && proxy.output().includes('"reason":"SIGHUP"'));
    expect((await chat("my-mini")).status).toBe(200);
  });
});

test("no request fails while the config is reloaded again and again under load", async () => {
  const file = configFile(configOn(a));
  const proxy = await startProxy({ args: ["serve", "--config", file.path] });
  try {
    let stop = false;
    const statuses: number[] = [];
    const workers = Array.from({ length: 8 }, async () => {
      while (!stop) {
        const response = await post(`${proxy.url}/v1/chat/completions`, chatBody("load"), { authorization: `Bearer ${KEY}` });
        statuses.push(response.status);
        await response.text();
      }
    });
    const pid = proxy.pid;
    for (let i = 0; i < 10; i++) {
      file.write(configOn(i % 2 === 0 ? b : a));
      process.kill(pid, "SIGHUP");
      await Bun.sleep(150);
    }
    stop = true;
    await Promise.all(workers);
    expect(statuses.length).toBeGreaterThan(50);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    // log lines are written in batches (src/lib/log-writer.ts): the last reload's line may be a few ms behind
    const reloads = () => proxy.output().split('"msg":"config reloaded"').length - 1;
    for (let i = 0; i < 50 && reloads() < 10; i++) await Bun.sleep(20);
    expect(reloads()).toBeGreaterThanOrEqual(10);
  } finally {
    await proxy.stop();
  }
}, 30_000);

describe("reload and stop edges", () => {
  test("a SIGHUP while the pool starts does not end the process: it reloads once the proxy runs", async () => {
    let sent = false;
    const file = configFile({ ...configOn(a), auth: { insecure_no_auth: true }, keys: [] });
    const proxy = await startProxy({
      args: ["serve", "--config", file.path, "--workers", "2"],
      // the open-relay warning is written before the workers are started
      whileStarting(pid, output) {
        if (sent || !output.includes("serving WITHOUT client keys")) return;
        sent = true;
        process.kill(pid, "SIGHUP");
      },
    });
    try {
      expect(sent).toBe(true);
      await until(() => proxy.output().includes('"msg":"config reloaded"'));
      const lines = proxy.output().split("\n");
      const at = (msg: string) => lines.findIndex((l) => l.includes(`"msg":"${msg}"`));
      expect(at("listening")).toBeLessThan(at("SIGHUP came during start-up: reloading now"));
      expect(lines[at("config reloaded")]).toContain('"reason":"SIGHUP"');
      expect((await post(`${proxy.url}/v1/chat/completions`, chatBody("hi"))).status).toBe(200);
    } finally {
      expect(await proxy.stop()).toBe(0);
    }
  });

  test("a SIGHUP while the config is being read does not end the process: it reloads once the proxy runs", async () => {
    const { closeSync, constants, mkdtempSync, openSync, renameSync, rmSync, writeFileSync } = await import("node:fs");
    const { open } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    // The config file is a FIFO: the proxy's read of it waits for a writer, and the writer's open
    // returns only once the proxy has opened it to read, so the SIGHUP lands inside that read,
    // where serve.ts used to start catching SIGHUP only after it (cli/hang-ups.ts). Written once,
    // then a regular file with the same config is renamed over it: the proxy reads on from the
    // FIFO it has open, and the reload reads the file.
    const dir = mkdtempSync(join(tmpdir(), "azure-proxy-fifo-"));
    const fifo = join(dir, "config.json");
    expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
    const text = JSON.stringify(configOn(a));
    writeFileSync(join(dir, "next.json"), text);
    let pid = 0;
    let released = false;
    const feed = (async () => {
      const writer = await open(fifo, "w");
      if (pid && !released) process.kill(pid, "SIGHUP");
      // EPIPE when the reader is gone (a proxy the SIGHUP ended): startProxy then says how it exited
      await writer.writeFile(text).catch(() => {});
      await writer.close();
      renameSync(join(dir, "next.json"), fifo);
    })();
    let proxy: RunningProxy | undefined;
    try {
      proxy = await startProxy({
        args: ["serve", "--config", fifo],
        // no fetch-cap re-exec (runtime/bun.ts): the SIGHUP goes to the process that serves
        env: { BUN_CONFIG_MAX_HTTP_REQUESTS: "1024" },
        whileStarting(started) {
          pid = started;
        },
      });
      await until(() => proxy!.output().includes('"msg":"config reloaded"'));
      const lines = proxy.output().split("\n");
      const at = (msg: string) => lines.findIndex((l) => l.includes(`"msg":"${msg}"`));
      expect(at("listening")).toBeLessThan(at("SIGHUP came during start-up: reloading now"));
      expect(lines[at("config reloaded")]).toContain('"reason":"SIGHUP"');
      expect((await post(`${proxy.url}/v1/chat/completions`, chatBody("hi"), { authorization: `Bearer ${KEY}` })).status).toBe(200);
      expect(await proxy.stop()).toBe(0);
      proxy = undefined;
    } finally {
      await proxy?.stop();
      // a writer still waiting for a reader (the proxy never opened the FIFO) is let go by ours
      released = true;
      const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
      await feed;
      closeSync(reader);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a ConfigMap-style symlink swap (..data flipped atomically) is noticed", async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, renameSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    // the layout the kubelet writes: name -> ..data/name, ..data -> ..<timestamp>/
    const dir = mkdtempSync(join(tmpdir(), "azure-proxy-configmap-"));
    const version = (name: string, config: unknown) => {
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, "config.json"), JSON.stringify(config));
    };
    version("..2026_12_01_10_00_00.1", configOn(a));
    symlinkSync("..2026_12_01_10_00_00.1", join(dir, "..data"));
    symlinkSync("..data/config.json", join(dir, "config.json"));
    const proxy = await startProxy({ args: ["serve", "--config", join(dir, "config.json")] });
    try {
      const chat = (model: string) => post(`${proxy.url}/v1/chat/completions`, chatBody("hi", { model }), { authorization: `Bearer ${KEY}` });
      expect((await chat("cm-mini")).status).toBe(404);
      version("..2026_12_01_10_05_00.2", configOn(a, { "gpt-4o": "gpt-4o", "cm-mini": "gpt-4o-mini" }));
      symlinkSync("..2026_12_01_10_05_00.2", join(dir, "..data_tmp"));
      renameSync(join(dir, "..data_tmp"), join(dir, "..data"));
      await until(() => proxy.output().includes('"msg":"config reloaded"'), 5000);
      expect((await chat("cm-mini")).status).toBe(200);
    } finally {
      await proxy.stop();
    }
  });

  for (const workers of ["1", "2"]) {
    test(`a reload that raises shutdown.grace_ms is honoured by the drain (--workers ${workers})`, async () => {
      const file = configFile({ ...configOn(a), shutdown: { grace_ms: 500 } });
      const proxy = await startProxy({ args: ["serve", "--config", file.path, "--workers", workers] });
      file.write({ ...configOn(a), shutdown: { grace_ms: 20_000 } });
      await until(() => proxy.output().includes('"msg":"config reloaded"'), 5000);
      const marker = crypto.randomUUID();
      // ~7 s of stream: past the old grace period and the pool's kill timer after it (grace + 5 s)
      const stream = post(`${proxy.url}/v1/chat/completions`, chatBody(`${marker} [sim chunk_ms=700 reply=a_b_c_d_e_f_g_h_i_j]`, { stream: true }), {
        authorization: `Bearer ${KEY}`,
      });
      await a.recorder.waitFor((r) => r.bodyText.includes(marker));
      const response = await stream;
      const exited = proxy.stop("SIGTERM");
      const events = await readEvents(response);
      expect(contentOf(events)).toBe("a b c d e f g h i j");
      expect(events.at(-1)!.data).toBe("[DONE]");
      expect(await exited).toBe(0);
      expect(proxy.output()).toContain('"msg":"draining","signal":"SIGTERM","grace_ms":20000');
    }, 30_000);
  }

  test("a SIGHUP during a drain is ignored with a log line: the stream finishes, the exit is 0", async () => {
    const file = configFile({ ...configOn(a), shutdown: { grace_ms: 10_000 } });
    const proxy = await startProxy({ args: ["serve", "--config", file.path] });
    const marker = crypto.randomUUID();
    const response = await post(`${proxy.url}/v1/chat/completions`, chatBody(`${marker} [sim chunk_ms=200 reply=a_b_c_d_e_f]`, { stream: true }), {
      authorization: `Bearer ${KEY}`,
    });
    await a.recorder.waitFor((r) => r.bodyText.includes(marker));
    const exited = proxy.stop("SIGTERM");
    await until(() => proxy.output().includes('"msg":"draining"'));
    process.kill(proxy.pid, "SIGHUP");
    const events = await readEvents(response);
    expect(contentOf(events)).toBe("a b c d e f");
    expect(await exited).toBe(0);
    expect(proxy.output()).toContain("SIGHUP while draining: ignored");
  }, 20_000);
});
