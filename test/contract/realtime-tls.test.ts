/**
 * TLS of the proxy's own (server.tls / AZURE_PROXY_TLS_CERT, AZURE_PROXY_TLS_KEY): HTTPS and WSS
 * on one port, the openai SDK's Realtime classes connecting with the test's CA trusted, the
 * certificate read again on SIGHUP while a session stays open, and clear start-up errors.
 * Certificates are made here with Debian's openssl.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { connectWebSocket } from "../../src/runtime/ws-client.ts";
import { proxyCommand, runProxyCommand, startProxy, type RunningProxy } from "../harness/proxy.ts";
import { startSimulator, type RunningSimulator } from "../harness/simulator.ts";

const KEY = "tls-client-key-0123456789";
const onDeno = proxyCommand().some((part) => part.includes("deno"));
const dir = mkdtempSync(join(tmpdir(), "azure-proxy-tls-"));
const file = (name: string) => join(dir, name);
const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });

function makeCa(): void {
  openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", file("ca.key"), "-out", file("ca.pem"), "-days", "2", "-subj", "/CN=azure-proxy test CA");
}

/** A server certificate for localhost and 127.0.0.1, signed by the test CA; returns its serial. */
function makeServerCert(name: string, cn: string): string {
  writeFileSync(file("san.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", file(`${name}.key`), "-out", file(`${name}.csr`), "-subj", `/CN=${cn}`);
  openssl(
    "x509",
    "-req",
    "-in",
    file(`${name}.csr`),
    "-CA",
    file("ca.pem"),
    "-CAkey",
    file("ca.key"),
    "-CAcreateserial",
    "-out",
    file(`${name}.pem`),
    "-days",
    "2",
    "-extfile",
    file("san.ext"),
  );
  return openssl("x509", "-in", file(`${name}.pem`), "-noout", "-serial")
    .toString()
    .trim()
    .split("=")[1]!
    .toUpperCase();
}

/** The serial of the certificate the server presents now. */
function servedSerial(port: number): Promise<string> {
  return new Promise((done, fail) => {
    const socket = tlsConnect({ host: "127.0.0.1", port, servername: "localhost", ca: readFileSync(file("ca.pem")) }, () => {
      const serial = socket.getPeerCertificate().serialNumber.toUpperCase();
      socket.end();
      done(serial);
    });
    socket.on("error", fail);
  });
}

let sim: RunningSimulator;
let proxy: RunningProxy;
let firstSerial: string;

beforeAll(async () => {
  makeCa();
  firstSerial = makeServerCert("server", "first");
  sim = await startSimulator();
  proxy = await startProxy({
    env: {
      AZURE_OPENAI_ENDPOINT: sim.url,
      AZURE_OPENAI_API_KEY: sim.key,
      AUTH_KEY: KEY,
      AZURE_PROXY_WORKERS: "1",
      AZURE_PROXY_TLS_CERT: file("server.pem"),
      AZURE_PROXY_TLS_KEY: file("server.key"),
    },
  });
});
afterAll(async () => {
  await proxy.stop();
  await sim.stop();
});

async function sdk(...scenarios: string[]): Promise<Record<string, any>[]> {
  const proc = Bun.spawn([process.execPath, resolve(import.meta.dir, "clients/realtime-sdk.ts"), `https://localhost:${proxy.port}`, KEY, ...scenarios], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_EXTRA_CA_CERTS: file("ca.pem") },
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill(), 30_000);
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  const lines = out
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l));
  if (lines.length !== scenarios.length) throw new Error(`client printed ${lines.length} results:\n${out}\n${err}`);
  return lines;
}

test("the listening line says https; HTTPS serves the HTTP routes on the same port", async () => {
  expect(proxy.output()).toContain(`"url":"https://127.0.0.1:${proxy.port}"`);
  const [https] = await sdk("https");
  expect(https).toMatchObject({ scenario: "https", ok: true });
  expect(https!.reply.length).toBeGreaterThan(0);
});

test("OpenAIRealtimeWS (ws), OpenAIRealtimeWS.azure(AzureOpenAI) and OpenAIRealtimeWebSocket (subprotocol key) hold a conversation over wss://", async () => {
  const results = await sdk("ws", "ws-azure", "websocket");
  for (const r of results) {
    expect(r).toMatchObject({ ok: true, text: "through the proxy" });
    expect(r.usage.output_tokens).toBeGreaterThan(0);
  }
  // the browser-style class offered its key as a subprotocol; the proxy selected `realtime`
  expect(results[2]!.protocol).toBe("realtime");
  const handshakes = sim.recorder.all().filter((r) => r.path.endsWith("/realtime"));
  expect(handshakes.map((h) => h.path)).toEqual(["/openai/v1/realtime", "/openai/v1/realtime", "/openai/v1/realtime"]);
  for (const h of handshakes) expect(JSON.stringify(h)).not.toContain(KEY);
});

test("SIGHUP reads the certificate again: new connections get the new one, an open session goes on", async () => {
  const session = await connectWebSocket(new URL(`wss://localhost:${proxy.port}/v1/realtime?model=gpt-realtime`), {
    headers: { "api-key": KEY },
    timeoutMs: 5000,
    maxMessageBytes: 1 << 20,
    tls: { ca: readFileSync(file("ca.pem"), "utf8") },
  });
  const received: string[] = [];
  let closed: number | undefined;
  session.on({ message: (d) => received.push(String(d)), pong() {}, drain() {}, close: (code) => (closed = code) });
  expect(await servedSerial(proxy.port)).toBe(firstSerial);
  const renewed = makeServerCert("server", "renewed");
  expect(renewed).not.toBe(firstSerial);
  process.kill(proxy.pid, "SIGHUP");
  const deadline = Date.now() + 5000;
  while (!proxy.output().includes('"msg":"certificate reloaded"') && Date.now() < deadline) await Bun.sleep(20);
  expect(await servedSerial(proxy.port)).toBe(renewed);
  if (onDeno) {
    // a single Deno process cannot open a second listener on its port (reusePort needs
    // --unstable-net), and Deno's shutdown closes the old listener's WebSockets: documented
    while (closed === undefined && Date.now() < deadline) await Bun.sleep(20);
    expect(closed).toBe(1001);
    return;
  }
  session.send(JSON.stringify({ type: "session.update", session: { instructions: "after the renewal" } }));
  while (!received.some((r) => r.includes("after the renewal")) && Date.now() < deadline) await Bun.sleep(20);
  expect(received.some((r) => r.includes('"session.updated"') && r.includes("after the renewal"))).toBe(true);
  expect(closed).toBeUndefined();
  session.close(1000, "");
});

test("healthcheck finds the HTTPS listener from the environment or the config file the server got", async () => {
  const tlsEnv = { PORT: String(proxy.port), AZURE_PROXY_TLS_CERT: file("server.pem"), AZURE_PROXY_TLS_KEY: file("server.key") };
  const ok = await runProxyCommand(["healthcheck"], tlsEnv);
  expect([ok.code, ok.stderr]).toEqual([0, ""]);
  // plain HTTP to the TLS port is no answer
  const plain = await runProxyCommand(["healthcheck"], { PORT: String(proxy.port) });
  expect(plain.code).toBe(1);
  expect(plain.stderr).toContain(`healthcheck: http://127.0.0.1:${proxy.port}/healthz`);
  // the same from a config file that names the port and the certificate, as serve reads it
  const config = file("healthcheck.json");
  writeFileSync(
    config,
    JSON.stringify({
      upstreams: [{ name: "m", endpoint: sim.url, api_key: sim.key, deployments: { "gpt-4o": "gpt-4o" } }],
      keys: [{ name: "t", key: KEY }],
      server: { host: "127.0.0.1", port: proxy.port, tls: { cert_file: file("server.pem"), key_file: file("server.key") } },
    }),
  );
  const fromFile = await runProxyCommand(["healthcheck", "--config", config]);
  expect([fromFile.code, fromFile.stderr]).toEqual([0, ""]);
  // an explicit URL is verified: the test CA is not trusted by the command
  const verified = await runProxyCommand(["healthcheck", "--url", `https://localhost:${proxy.port}/healthz`], tlsEnv);
  expect(verified.code).toBe(1);
  expect(verified.stderr).toContain("unreachable");
});

test("a missing or mismatched file is a start-up error that names it (exit 2)", async () => {
  const base = { AZURE_OPENAI_ENDPOINT: sim.url, AZURE_OPENAI_API_KEY: sim.key, AUTH_KEY: KEY, HOST: "127.0.0.1", PORT: "0" };
  const missing = await runProxyCommand(
    ["serve"],
    { ...base, AZURE_PROXY_TLS_CERT: file("nope.pem"), AZURE_PROXY_TLS_KEY: file("server.key") },
    proxyCommand(),
  );
  expect(missing.code).toBe(2);
  expect(missing.stderr).toContain(`server.tls.cert_file: cannot read '${file("nope.pem")}'`);
  makeServerCert("other", "other");
  const mismatched = await runProxyCommand(["serve"], { ...base, AZURE_PROXY_TLS_CERT: file("server.pem"), AZURE_PROXY_TLS_KEY: file("other.key") });
  expect(mismatched.code).toBe(2);
  expect(mismatched.stderr).toContain(`the key in '${file("other.key")}' does not fit`);
  const half = await runProxyCommand(["serve"], { ...base, AZURE_PROXY_TLS_CERT: file("server.pem") });
  expect(half.code).toBe(2);
  expect(half.stderr).toContain("AZURE_PROXY_TLS_KEY: required with AZURE_PROXY_TLS_CERT");
});
