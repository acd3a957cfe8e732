/**
 * deploy/nginx.conf, run by Debian's real nginx in front of the real proxy and the Azure
 * simulator. The example file is included as shipped; only its two ports are swapped, so what
 * passes here is what users paste. The wrapper around it stands in for Debian's
 * /etc/nginx/nginx.conf, with every path moved into a temp dir so no root-owned state is touched.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chatBody, CLIENT_KEY, post, startStack, type Stack } from "../harness/fixture.ts";
import { contentOf, readEvents } from "../harness/sse.ts";
import { waitFor } from "../harness/processes.ts";
import { freePort, requireTool, ROOT, substitute } from "./tools.ts";
import { connectWebSocket } from "../../src/runtime/ws-client.ts";

const NGINX = "/usr/sbin/nginx";
let stack: Stack;
let dir: string;
let nginx: ReturnType<typeof Bun.spawn> | undefined;
let base: string;

function nginxLogs(): string {
  try {
    return readFileSync(join(dir, "error.log"), "utf8");
  } catch {
    return "";
  }
}

beforeAll(async () => {
  requireTool(NGINX, "nginx");
  stack = await startStack();
  dir = mkdtempSync(join(tmpdir(), "azure-proxy-nginx-"));
  // nginx's workers drop root to `nobody`; they must be able to reach the temp paths below.
  chmodSync(dir, 0o755);
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;

  let site = readFileSync(resolve(ROOT, "deploy/nginx.conf"), "utf8");
  site = substitute(site, "server 127.0.0.1:8000;", `server 127.0.0.1:${stack.proxy.port};`);
  site = substitute(site, "listen 80;", `listen 127.0.0.1:${port};`);
  site = substitute(site, "access_log /var/log/nginx/access.log azure_proxy;", `access_log ${dir}/access.log azure_proxy;`);
  writeFileSync(join(dir, "azure-proxy.conf"), site);
  writeFileSync(
    join(dir, "nginx.conf"),
    `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  include ${dir}/azure-proxy.conf;
}
`,
  );

  // `nginx -t` first: a syntax error then fails with nginx's own message, not a connect error.
  const check = Bun.spawnSync([NGINX, "-t", "-p", dir, "-e", join(dir, "error.log"), "-c", join(dir, "nginx.conf")]);
  if (check.exitCode !== 0) throw new Error(`nginx -t rejected deploy/nginx.conf:\n${check.stderr.toString()}`);

  nginx = Bun.spawn([NGINX, "-p", dir, "-e", join(dir, "error.log"), "-c", join(dir, "nginx.conf"), "-g", "daemon off;"], {
    stdout: "inherit",
    stderr: "inherit",
  });
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const r = await fetch(`${base}/healthz`);
      if (r.ok) break;
    } catch {}
    if (nginx.exitCode !== null || Date.now() > deadline) throw new Error(`nginx did not come up:\n${nginxLogs()}`);
    await Bun.sleep(50);
  }
}, 30_000);

afterAll(async () => {
  if (nginx) {
    // SIGQUIT is nginx's graceful stop; the master also takes its workers down with it.
    nginx.kill("SIGQUIT");
    await nginx.exited;
  }
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * A streamed chat with 200 ms between its 7 events (prompt filter, role, 3 words, stop, [DONE]):
 * it must reach the client spread out over ~1.2 s, not at once at the end.
 */
async function expectStreamedThroughNginx(path: string) {
  const response = await post(`${base}${path}`, chatBody("[sim chunk_ms=200 reply=one_two_three]", { stream: true }));
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("text/event-stream");
  const events = await readEvents(response);
  expect(events.at(-1)!.data).toBe("[DONE]");
  expect(contentOf(events)).toBe("one two three");
  const firstContent = events.find((e) => e.data !== "[DONE]" && contentOf([e]) !== "")!;
  const last = events.at(-1)!;
  expect(events.length).toBeGreaterThanOrEqual(6);
  // Buffered, every event would land within a few ms of the last one.
  expect(last.at - firstContent.at).toBeGreaterThan(800);
  // And each step of 200 ms shows up as its own arrival, not in clumps.
  const gaps = events.slice(1).map((e, i) => e.at - events[i]!.at);
  expect(gaps.filter((g) => g > 100).length).toBeGreaterThanOrEqual(events.length - 2);
}

describe("deploy/nginx.conf in front of the proxy", () => {
  test("relays a stream event by event on /v1/", async () => {
    await expectStreamedThroughNginx("/v1/chat/completions");
  });

  test("relays a stream event by event on the Flask proxy's /api/azure_api/ prefix", async () => {
    await expectStreamedThroughNginx("/api/azure_api/v1/chat/completions");
  });

  test("answers a non-streamed chat, on the OpenAI and the Azure shape", async () => {
    const plain = await post(`${base}/v1/chat/completions`, chatBody("Hello!"));
    expect(plain.status).toBe(200);
    expect((await plain.json()).object).toBe("chat.completion");

    const azure = await fetch(`${base}/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21`, {
      method: "POST",
      headers: { "api-key": CLIENT_KEY, "content-type": "application/json" },
      body: JSON.stringify({ messages: [{ role: "user", content: "Hi" }] }),
    });
    expect(azure.status).toBe(200);
    expect((await azure.json()).object).toBe("chat.completion");
  });

  test("keeps an upstream error's status and retry-after", async () => {
    // A deployment of its own: the proxy may cool a deployment down after a 429, and the other
    // tests use gpt-4o.
    const response = await post(`${base}/v1/chat/completions`, { ...chatBody("[sim status=429 retry_after=3]"), model: "gpt-4o-mini" });
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("3");
    expect((await response.json()).error).toBeDefined();

    const unauthorized = await post(`${base}/v1/chat/completions`, chatBody(), { authorization: "Bearer wrong" });
    expect(unauthorized.status).toBe(401);
    // The proxy may itself retry a 429 after its retry-after (3 s each) before giving up.
  }, 30_000);

  test("passes the client's X-Request-Id, and nginx's own when the client sent none", async () => {
    const mine = await post(`${base}/v1/chat/completions`, chatBody(), { "x-request-id": "client-id-42" });
    expect(mine.headers.get("x-request-id")).toBe("client-id-42");
    await mine.body?.cancel();

    const theirs = await post(`${base}/v1/chat/completions`, chatBody());
    // nginx's $request_id is 32 hex digits; the proxy's own would be a UUID.
    const id = theirs.headers.get("x-request-id")!;
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    await theirs.body?.cancel();
    // the access-log line is written once the answer has ended, a moment after the client's cancel
    await waitFor(() => stack.proxy.output().includes(`"request_id":"${id}"`), 5000, "the access-log line with nginx's request id");
  });

  test("carries a Realtime WebSocket session both ways (the upgrade map), plain requests beside it unchanged", async () => {
    const socket = await connectWebSocket(new URL(`${base.replace("http", "ws")}/v1/realtime?model=gpt-realtime`), {
      headers: { authorization: `Bearer ${CLIENT_KEY}` },
      protocols: ["realtime"],
      timeoutMs: 5000,
      maxMessageBytes: 1 << 20,
    });
    expect(socket.headers.get("sec-websocket-protocol")).toBe("realtime");
    const types: string[] = [];
    const done = new Promise<void>((resolve) =>
      socket.on({
        message(data) {
          const event = JSON.parse(String(data));
          types.push(event.type);
          if (event.type === "session.created") {
            socket.send(
              JSON.stringify({ type: "conversation.item.create", item: { type: "message", role: "user", content: [{ type: "input_text", text: "hi" }] } }),
            );
            socket.send(JSON.stringify({ type: "response.create" }));
          }
          if (event.type === "response.done") resolve();
        },
        pong() {},
        drain() {},
        close() {},
      }),
    );
    await done;
    expect(types).toContain("response.output_text.delta");
    socket.close(1000, "");
    // a plain request after it still gets the empty Connection header (keep-alive upstream)
    const plain = await post(`${base}/v1/chat/completions`, chatBody("Hello!"));
    expect(plain.status).toBe(200);
    await plain.body?.cancel();
  });

  test("a Realtime key in the query (?api-key=) is not in nginx's access log; the path is", async () => {
    const socket = await connectWebSocket(new URL(`${base.replace("http", "ws")}/v1/realtime?model=gpt-realtime&api-key=${CLIENT_KEY}`), {
      headers: {},
      timeoutMs: 5000,
      maxMessageBytes: 1 << 20,
    });
    socket.close(1000, "");
    // nginx writes the line when the connection ends
    await waitFor(() => readFileSync(join(dir, "access.log"), "utf8").includes("GET /v1/realtime HTTP/1.1"), 5000, "the session's access-log line");
    expect(readFileSync(join(dir, "access.log"), "utf8")).not.toContain(CLIENT_KEY);
  });

  test("accepts a 20 MB body and answers a body over 26 MiB with an OpenAI-shaped 413", async () => {
    const big = await post(`${base}/v1/chat/completions`, chatBody("x".repeat(20 * 1024 * 1024)));
    expect(big.status).toBe(200);
    await big.body?.cancel();

    const tooBig = await post(`${base}/v1/chat/completions`, chatBody("x".repeat(27 * 1024 * 1024)));
    expect(tooBig.status).toBe(413);
    expect((await tooBig.json()).error.code).toBe("request_too_large");
  });
});
