/** The command line as users and scripts rely on it (docs/contract.md): exit codes, messages, no secrets. */
import { describe, expect, test } from "bun:test";
import { chatBody, CLIENT_KEY, post } from "../harness/fixture.ts";
import { runProxyCommand, startProxy } from "../harness/proxy.ts";
import { waitFor } from "../harness/processes.ts";
import { startSimulator } from "../harness/simulator.ts";
import { connectWebSocket } from "../../src/runtime/ws-client.ts";

const ENV = { AZURE_OPENAI_ENDPOINT: "https://res.openai.azure.com", AZURE_OPENAI_API_KEY: "azure-secret-value", AUTH_KEY: "client-secret-value" };

describe("command line", () => {
  test("--help and --version answer with exit 0", async () => {
    const help = await runProxyCommand(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("azure-proxy demo");
    const version = await runProxyCommand(["--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^azure-proxy \d+\.\d+\.\d+/);
  });

  test("SUBCOMMAND --help prints that subcommand's usage and exits 0, starting nothing", async () => {
    const cases: Array<[string[], string]> = [
      [["serve", "--help"], "Usage: azure-proxy [serve]"],
      [["demo", "--help"], "Usage: azure-proxy demo"],
      [["simulate", "-h"], "Usage: azure-proxy simulate"],
      [["check", "--help"], "Usage: azure-proxy check"],
      [["healthcheck", "--help"], "Usage: azure-proxy healthcheck"],
      [["help", "check"], "Usage: azure-proxy check"],
      [["--port", "1", "--help"], "Usage: azure-proxy [serve]"],
    ];
    const results = await Promise.all(cases.map(([args]) => runProxyCommand(args)));
    results.forEach((result, i) => {
      expect(result.code).toBe(0);
      expect(result.stdout).toStartWith(cases[i]![1]);
      // only that subcommand: not the whole usage text
      expect(result.stdout).not.toContain("Environment:");
      expect(result.stderr).toBe("");
    });
  });

  test("an unknown command or flag is exit 2 with the usage", async () => {
    const unknown = await runProxyCommand(["frobnicate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    // `help NAME` names the command it does not know, not "help"
    const help = await runProxyCommand(["help", "frobnicate"]);
    expect(help.code).toBe(2);
    expect(help.stderr).toContain('unknown command "frobnicate"');
    const flag = await runProxyCommand(["serve", "--prot", "1"], ENV);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("--prot");
  });

  test("invalid configuration stops the server with exit 2 naming the variable", async () => {
    const result = await runProxyCommand(["serve"], { ...ENV, AZURE_OPENAI_API_VERSION: "latest" });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("AZURE_OPENAI_API_VERSION: must be");
  });

  test("no client key: refuses to start, names the way out", async () => {
    const result = await runProxyCommand(["serve"], { ...ENV, AUTH_KEY: undefined });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("AUTH_KEY: required");
    expect(result.stderr).toContain("--insecure-no-auth");
  });

  test("--insecure-no-auth serves without keys, and says so loudly", async () => {
    const sim = await startSimulator();
    const proxy = await startProxy({ env: { AZURE_OPENAI_ENDPOINT: sim.url, AZURE_OPENAI_API_KEY: sim.key }, args: ["serve", "--insecure-no-auth"] });
    try {
      const response = await fetch(`${proxy.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify(chatBody()) });
      expect(response.status).toBe(200);
      expect(proxy.output()).toContain("WITHOUT client keys");
    } finally {
      await proxy.stop();
      await sim.stop();
    }
  });

  test("check prints the effective config with every secret masked", async () => {
    const result = await runProxyCommand(["check"], { ...ENV, AZURE_OPENAI_MODEL_MAP: "gpt-3.5-turbo=gpt-35-turbo" });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('"endpoint": "https://res.openai.azure.com"');
    expect(result.stdout).toMatch(/gpt-3\.5-turbo +default\/gpt-35-turbo \(priority 0, weight 1\)/);
    expect(result.stdout + result.stderr).not.toContain("azure-secret-value");
    expect(result.stdout + result.stderr).not.toContain("client-secret-value");
  });

  test("check with a bad config is exit 2", async () => {
    const result = await runProxyCommand(["check"], { ...ENV, AZURE_OPENAI_ENDPOINT: "nope" });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("AZURE_OPENAI_ENDPOINT");
  });

  test("SIGTERM stops the server with exit 0; healthcheck tracks it", async () => {
    const sim = await startSimulator();
    const proxy = await startProxy({ env: { AZURE_OPENAI_ENDPOINT: sim.url, AZURE_OPENAI_API_KEY: sim.key, AUTH_KEY: CLIENT_KEY } });
    expect((await post(`${proxy.url}/v1/chat/completions`, chatBody())).status).toBe(200);
    expect((await runProxyCommand(["healthcheck", "--url", `${proxy.url}/healthz`])).code).toBe(0);
    expect(await proxy.stop("SIGTERM")).toBe(0);
    expect((await runProxyCommand(["healthcheck", "--url", `${proxy.url}/healthz`])).code).toBe(1);
    await sim.stop();
  });

  test("the demo prints how to try a Realtime session, and that session answers", async () => {
    const proxy = await startProxy({ args: ["demo"], env: { AUTH_KEY: "demo-key-2" } });
    try {
      // the try-it lines follow the "listening" line the harness waits for
      await waitFor(() => proxy.output().includes("websocat"), 5000, "the demo's Realtime line");
      const line = /websocat -H "Authorization: Bearer demo-key-2" "(ws:\/\/[^"]+)"/.exec(proxy.output());
      expect(line).not.toBeNull();
      const socket = await connectWebSocket(new URL(line![1]!), { headers: { authorization: "Bearer demo-key-2" }, timeoutMs: 5000, maxMessageBytes: 1 << 20 });
      const done = new Promise<string[]>((resolve) => {
        const types: string[] = [];
        socket.on({
          message(data) {
            const event = JSON.parse(String(data));
            types.push(event.type);
            if (event.type === "session.created") socket.send(JSON.stringify({ type: "response.create" }));
            if (event.type === "response.done") resolve(types);
          },
          pong() {},
          drain() {},
          close() {},
        });
      });
      // the demo's upstream uses a dated api-version: the preview path and its event names
      expect(await done).toContain("response.text.delta");
      socket.close(1000, "");
    } finally {
      await proxy.stop();
    }
  });

  test("the demo starts, prints a working curl, and answers it", async () => {
    const proxy = await startProxy({ args: ["demo"], env: { AUTH_KEY: "demo-key-1" } });
    try {
      await waitFor(() => proxy.output().includes("curl -N"), 5000, "the demo's curl line");
      const out = proxy.output();
      expect(out).toContain("curl -N http://127.0.0.1:");
      expect(out).toContain("demo-key-1");
      const response = await fetch(`${proxy.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: "Bearer demo-key-1", "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-3.5-turbo", messages: [{ role: "user", content: "hi" }] }),
      });
      expect(response.status).toBe(200);
      expect((await response.json()).model).toBe("gpt-35-turbo");
    } finally {
      await proxy.stop();
    }
  });

  test("the demo prints its status page with an admin key that opens it; the client key does not", async () => {
    const proxy = await startProxy({ args: ["demo"], env: { AUTH_KEY: "demo-key-3" } });
    try {
      await waitFor(() => proxy.output().includes("/status (sign in"), 5000, "the demo's status line");
      const admin = /\/status \(sign in with the admin key (demo-admin-[0-9a-f]+)\)/.exec(proxy.output())?.[1];
      expect(admin).toBeDefined();
      const page = await fetch(`${proxy.url}/status`);
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toContain("text/html");
      const status = await fetch(`${proxy.url}/admin/status`, { headers: { authorization: `Bearer ${admin}` } });
      expect(status.status).toBe(200);
      expect((await status.json()).upstreams.length).toBe(1);
      expect((await fetch(`${proxy.url}/admin/status`, { headers: { authorization: "Bearer demo-key-3" } })).status).toBe(403);
    } finally {
      await proxy.stop();
    }
  });
});
