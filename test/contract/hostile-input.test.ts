/**
 * Requests an attacker or a careless client sends (issue 10): preflights and unlisted methods on
 * the relays, Host headers and targets the router and the key check could read differently,
 * keys limited to some models or naming a Proxy-src group on the relays, and the form bodies a
 * web page can send without a preflight. Each answer is OpenAI-shaped JSON with a 4xx, and
 * nothing of it reaches Azure.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { configFile } from "../harness/config-file.ts";
import { startProxy, type RunningProxy } from "../harness/proxy.ts";
import { rawRequest } from "../harness/raw-http.ts";
import { startSimulator, type RunningSimulator } from "../harness/simulator.ts";

const FULL = "hostile-full-key";
const LIMITED = "hostile-limited-key";
const SLOW = "hostile-rpm-key";
const ORIGIN = "https://chat.example.com";

let sim: RunningSimulator;
let proxy: RunningProxy; // keys, groups and CORS
let open: RunningProxy; // --insecure-no-auth, no CORS

beforeAll(async () => {
  sim = await startSimulator();
  const upstream = (name: string, priority: number) => ({
    name,
    endpoint: sim.url,
    api_key: sim.key,
    priority,
    deployments: { "gpt-4o": "gpt-4o" },
    any_model: true,
  });
  const file = configFile({
    upstreams: [upstream("home", 0), upstream("other", 1)],
    groups: { homegroup: ["home", "other"], elsewhere: ["other"] },
    keys: [
      { name: "full", key: FULL },
      { name: "limited", key: LIMITED, models: ["gpt-4o"] },
      { name: "slow", key: SLOW, rpm: 3 },
    ],
    cors: { origins: [ORIGIN] },
  });
  [proxy, open] = await Promise.all([
    startProxy({ args: ["serve", "--config", file.path, "--workers", "1"] }),
    startProxy({ env: { AZURE_OPENAI_ENDPOINT: sim.url, AZURE_OPENAI_API_KEY: sim.key, AZURE_PROXY_WORKERS: "1" }, args: ["serve", "--insecure-no-auth"] }),
  ]);
});
afterAll(async () => {
  await Promise.all([proxy.stop(), open.stop()]);
  await sim.stop();
});

const seen = () => sim.recorder.all().length;

/** An OpenAI-shaped error with this status (and code), never HTML. */
async function expectError(response: Response, status: number, code?: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toStartWith("application/json");
  const body = await response.json();
  expect(Object.keys(body)).toEqual(["error"]);
  expect(Object.keys(body.error).sort()).toEqual(["code", "message", "param", "type"]);
  if (code !== undefined) expect(body.error.code).toBe(code);
  return body.error as { message: string; code: string | null; param: string | null };
}

/** A raw HTTP/1.1 answer's status, headers and JSON body. */
function parseRaw(text: string) {
  const [head = "", body = ""] = text.split("\r\n\r\n");
  const contentType = /^content-type:\s*(.*)$/im.exec(head)?.[1] ?? "";
  return { contentType, json: contentType.startsWith("application/json") ? JSON.parse(body) : null, body };
}

const RELAY_PATHS = ["files", "batches", "vector_stores", "fine_tuning"].flatMap((resource) => [
  `/v1/${resource}`,
  `/v1/${resource}/x`,
  `/openai/v1/${resource}`,
  `/openai/v1/${resource}/x`,
]);

describe("no key, no upstream call, ever", () => {
  for (const path of RELAY_PATHS) {
    test(`OPTIONS ${path}: answered by the CORS layer alone, never relayed`, async () => {
      const before = seen();
      // not a preflight (no Origin): a plain 4xx, the body unread
      await expectError(await fetch(`${proxy.url}${path}`, { method: "OPTIONS", body: "do-not-forward" }), 405, "method_not_allowed");
      // a preflight from an origin not listed
      const foreign = { origin: "https://evil.example.com", "access-control-request-method": "POST" };
      await expectError(await fetch(`${proxy.url}${path}`, { method: "OPTIONS", headers: foreign, body: "do-not-forward" }), 403, "cors_origin_not_allowed");
      // with CORS off, no origin is listed
      await expectError(await fetch(`${open.url}${path}`, { method: "OPTIONS", headers: { ...foreign, origin: ORIGIN } }), 403, "cors_origin_not_allowed");
      // a listed origin's preflight: 204 with what the browser needs
      const allowed = await fetch(`${proxy.url}${path}`, {
        method: "OPTIONS",
        headers: { origin: ORIGIN, "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type" },
        body: "do-not-forward",
      });
      expect(allowed.status).toBe(204);
      expect(allowed.headers.get("access-control-allow-origin")).toBe(ORIGIN);
      expect(allowed.headers.get("access-control-allow-methods")).toBe("GET, POST, DELETE");
      expect(allowed.headers.get("access-control-allow-headers")).toContain("authorization");
      expect(seen()).toBe(before);
    });
  }

  test("methods the relays do not list (PUT, PATCH, HEAD) never reach Azure, even with a key", async () => {
    const before = seen();
    for (const path of ["/v1/files/x", "/openai/v1/batches/x", "/v1/vector_stores", "/openai/v1/fine_tuning/jobs"]) {
      for (const method of ["PUT", "PATCH"]) {
        await expectError(await fetch(`${proxy.url}${path}`, { method, headers: { authorization: `Bearer ${FULL}` }, body: "{}" }), 404, "unknown_url");
      }
      const head = await fetch(`${proxy.url}${path}`, { method: "HEAD", headers: { authorization: `Bearer ${FULL}` } });
      expect(head.status).toBe(405);
    }
    const head = await fetch(`${proxy.url}/v1/responses/resp_x`, { method: "HEAD", headers: { authorization: `Bearer ${FULL}` } });
    expect(head.status).toBe(405);
    expect(seen()).toBe(before);
  });

  test("a Host or target that the router and the key check could read differently never reaches Azure without a key", async () => {
    const before = seen();
    const cases: Array<[string, string]> = [
      ["/v1/files/../../healthz", "127.0.0.1"],
      ["/v1/files/%2e%2e/%2e%2e/healthz", "127.0.0.1"],
      ["/openai/v1/files/..\\..\\..\\healthz", "127.0.0.1"],
      ["http://a?b/v1/files/x", "127.0.0.1"],
      ["/v1/files/x", "h?x"],
      ["/v1/chat/completions", "h?x"],
      ["/v1/files", "h/x"],
      ["/v1/files", "h#x"],
    ];
    for (const [target, host] of cases) {
      const { status, text } = await rawRequest(proxy.port, `POST ${target} HTTP/1.1\r\ncontent-type: application/json`, '{"purpose":"batch"}', host);
      expect(status).toBeGreaterThanOrEqual(200);
      expect(status).toBeLessThan(500);
      // a runtime that resolves the dot segments itself serves /healthz; anything else is refused as JSON
      if (status !== 200 && status !== 404) expect(parseRaw(text).json?.error?.code).toMatch(/^invalid_(host|request_target|url)$/);
      if (status === 404) expect(parseRaw(text).json?.error?.code).toBe("unknown_url");
    }
    expect(seen()).toBe(before);
  });
});

describe("relays respect the key", () => {
  const calls: Array<[string, string, string?]> = [
    ["POST", "/v1/batches", JSON.stringify({ input_file_id: "file-x", endpoint: "/v1/chat/completions", completion_window: "24h" })],
    ["POST", "/openai/v1/batches", JSON.stringify({ input_file_id: "file-x", endpoint: "/v1/chat/completions", completion_window: "24h" })],
    ["POST", "/v1/fine_tuning/jobs", JSON.stringify({ model: "gpt-4o", training_file: "file-x" })],
    ["POST", "/openai/v1/fine_tuning/jobs", JSON.stringify({ model: "gpt-4o", training_file: "file-x" })],
    ["GET", "/v1/files"],
    ["GET", "/v1/files/file-x/content"],
    ["GET", "/openai/v1/files/file-x"],
    ["GET", "/v1/vector_stores"],
    // Azure's dated paths (what AzureOpenAI sends), relayed the same way
    ["GET", "/openai/files?api-version=2024-10-21"],
    ["POST", "/openai/batches?api-version=2024-10-21", JSON.stringify({ input_file_id: "file-x", endpoint: "/v1/chat/completions", completion_window: "24h" })],
    [
      "POST",
      "/openai/deployments/gpt-4o/batches?api-version=2024-10-21",
      JSON.stringify({ input_file_id: "file-x", endpoint: "/v1/chat/completions", completion_window: "24h" }),
    ],
    ["GET", "/openai/fine_tuning/jobs?api-version=2024-10-21"],
  ];
  const send = (method: string, path: string, body: string | undefined, key: string, headers: Record<string, string> = {}) =>
    fetch(`${proxy.url}${path}`, {
      method,
      body,
      headers: { authorization: `Bearer ${key}`, ...(body ? { "content-type": "application/json" } : {}), ...headers },
    });

  test("a key limited to some models gets 403 on every relay, in both shapes; nothing reaches Azure", async () => {
    const before = seen();
    for (const [method, path, body] of calls) {
      const error = await expectError(await send(method, path, body, LIMITED), 403, "relay_not_allowed");
      expect(error.message).toContain("'limited'");
    }
    expect(seen()).toBe(before);
    // the same key still reaches its model, and a key allowed every model reaches the relays
    const chat = await send("POST", "/v1/chat/completions", JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "x" }] }), LIMITED);
    expect(chat.status).toBe(200);
    expect((await send("GET", "/v1/files", undefined, FULL)).status).toBe(200);
  });

  test("a Proxy-src group without the default upstream cannot use the relays or stored responses; one with it can", async () => {
    const before = seen();
    await expectError(await send("GET", "/v1/files", undefined, FULL, { "proxy-src": "elsewhere" }), 403, "group_not_allowed");
    await expectError(await send("POST", "/openai/v1/batches", calls[1]![2], FULL, { "proxy-src": "elsewhere" }), 403, "group_not_allowed");
    await expectError(await send("GET", "/v1/responses/resp_x", undefined, FULL, { "proxy-src": "elsewhere" }), 403, "group_not_allowed");
    await expectError(await send("GET", "/openai/files?api-version=2024-10-21", undefined, FULL, { "proxy-src": "elsewhere" }), 403, "group_not_allowed");
    await expectError(await send("POST", "/openai/deployments/gpt-4o/batches", calls[1]![2], FULL, { "proxy-src": "elsewhere" }), 403, "group_not_allowed");
    const unknown = await expectError(await send("GET", "/v1/files", undefined, FULL, { "proxy-src": "nope" }), 400, "unknown_group");
    expect(unknown.message).not.toContain("homegroup");
    expect(unknown.message).not.toContain("elsewhere");
    expect(seen()).toBe(before);
    expect((await send("GET", "/v1/files", undefined, FULL, { "proxy-src": "homegroup" })).status).toBe(200);
    expect(seen()).toBe(before + 1);
  });

  test("relays and stored responses count against the key's rpm", async () => {
    const statuses: number[] = [];
    for (const path of ["/v1/files", "/openai/v1/batches", "/v1/responses/resp_x", "/v1/vector_stores"]) {
      statuses.push((await send("GET", path, undefined, SLOW)).status);
    }
    expect(statuses.slice(0, 3).every((s) => s !== 429)).toBe(true);
    expect(statuses[3]).toBe(429);
  });
});

describe("browsers cannot smuggle calls", () => {
  const FORMS: Array<[string, string]> = [
    ["text/plain;charset=UTF-8", JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "x" }] })],
    ["application/x-www-form-urlencoded", "model=gpt-4o&prompt=x"],
    ["multipart/form-data; boundary=b", '--b\r\ncontent-disposition: form-data; name="model"\r\n\r\ngpt-4o\r\n--b--\r\n'],
  ];
  const JSON_ROUTES = [
    "/v1/chat/completions",
    "/v1/completions",
    "/v1/embeddings",
    "/v1/images/generations",
    "/v1/audio/speech",
    "/v1/responses",
    "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
    "/openai/v1/chat/completions",
    "/openai/v1/responses",
  ];

  test("JSON routes answer 415 to the three preflight-free body types, even with --insecure-no-auth", async () => {
    const before = seen();
    for (const path of JSON_ROUTES) {
      for (const [contentType, body] of FORMS) {
        const error = await expectError(
          await fetch(`${open.url}${path}`, { method: "POST", headers: { "content-type": contentType }, body }),
          415,
          "unsupported_media_type",
        );
        expect(error.message).toContain("Content-Type: application/json");
      }
    }
    expect(seen()).toBe(before);
    const json = await fetch(`${open.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: FORMS[0]![1] });
    expect(json.status).toBe(200);
  });

  test("relays and stored responses refuse them too; a file upload still takes its multipart form", async () => {
    const before = seen();
    for (const path of ["/v1/batches", "/openai/v1/fine_tuning/jobs", "/v1/vector_stores", "/v1/responses/resp_x/cancel", "/v1/batches/batch_x/cancel"]) {
      for (const [contentType, body] of FORMS) {
        await expectError(await fetch(`${open.url}${path}`, { method: "POST", headers: { "content-type": contentType }, body }), 415, "unsupported_media_type");
      }
    }
    await expectError(
      await fetch(`${open.url}/v1/files`, { method: "POST", headers: { "content-type": "text/plain" }, body: "x" }),
      415,
      "unsupported_media_type",
    );
    expect(seen()).toBe(before);
    const form = new FormData();
    form.set("purpose", "batch");
    form.set("file", new File(['{"custom_id":"1"}\n'], "batch.jsonl"));
    const upload = await fetch(`${open.url}/v1/files`, { method: "POST", body: form });
    expect(upload.status).toBe(200);
    expect(seen()).toBe(before + 1);
  });

  test("a page on another site gets 403 for what it could send without a body type (a GET, a file upload) unless its origin is listed", async () => {
    const before = seen();
    const crossSite = { "sec-fetch-site": "cross-site", "sec-fetch-mode": "no-cors", "sec-fetch-dest": "image" };
    await expectError(await fetch(`${open.url}/v1/files/file-x/content`, { headers: crossSite }), 403, "cross_site_request");
    const form = new FormData();
    form.set("purpose", "batch");
    form.set("file", new File(["{}\n"], "batch.jsonl"));
    const navigate = { "sec-fetch-site": "same-site", "sec-fetch-mode": "navigate", origin: "https://evil.example.com" };
    await expectError(await fetch(`${open.url}/v1/files`, { method: "POST", headers: navigate, body: form }), 403, "cross_site_request");
    await expectError(
      await fetch(`${proxy.url}/v1/files`, { headers: { ...crossSite, authorization: `Bearer ${FULL}`, origin: "https://evil.example.com" } }),
      403,
      "cross_site_request",
    );
    expect(seen()).toBe(before);
    // a listed origin's CORS call, the proxy's own pages, and a typed-in address pass
    const passing: Record<string, string>[] = [
      { "sec-fetch-site": "cross-site", "sec-fetch-mode": "cors", origin: ORIGIN },
      { "sec-fetch-site": "same-origin" },
      { "sec-fetch-site": "none" },
    ];
    for (const headers of passing) {
      expect((await fetch(`${proxy.url}/v1/files`, { headers: { ...headers, authorization: `Bearer ${FULL}` } })).status).toBe(200);
    }
    expect(seen()).toBe(before + 3);
  });
});

// A page can POST a Blob with no type: no Content-Type at all, so no 415 and no preflight. A
// browser with Fetch Metadata marks it cross-site (above); one without (Safari before 16.4)
// still sends the page's Origin.
test("a body without Content-Type from an unlisted Origin, with no Fetch Metadata, is a 403 even with --insecure-no-auth; the proxy's own origin passes", async () => {
  const before = seen();
  const chat = JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "x" }] });
  for (const origin of ["https://evil.example.com", "null", `http://127.0.0.1:${open.port + 1}`]) {
    const { status, text } = await rawRequest(open.port, `POST /v1/chat/completions HTTP/1.1\r\norigin: ${origin}`, chat, `127.0.0.1:${open.port}`);
    expect([status, parseRaw(text).json?.error?.code]).toEqual([403, "cross_site_request"]);
  }
  expect(seen()).toBe(before);
  const own = await rawRequest(open.port, `POST /v1/chat/completions HTTP/1.1\r\norigin: http://127.0.0.1:${open.port}`, chat, `127.0.0.1:${open.port}`);
  expect(own.status).toBe(200);
  const listed = await rawRequest(proxy.port, `POST /v1/chat/completions HTTP/1.1\r\nauthorization: Bearer ${FULL}\r\norigin: ${ORIGIN}`, chat);
  expect(listed.status).toBe(200);
  expect(seen()).toBe(before + 2);
});

describe("never a 5xx or an HTML page for bad input", () => {
  const BAD_HOSTS = ["user:pw@127.0.0.1", "127.0.0.1:99999", "127.0.0.1:abc", "[::1", "[fe80::1%25eth0]", "", "a".repeat(300), "exa mple", "1.2.3.4.5", "h\\x"];
  for (const host of BAD_HOSTS) {
    test(`Host ${JSON.stringify(host.length > 40 ? `${host.slice(0, 10)}…(${host.length})` : host)} → 400 JSON, nothing forwarded`, async () => {
      const before = seen();
      for (const [head, body] of [
        [
          `POST /v1/chat/completions HTTP/1.1\r\nauthorization: Bearer ${FULL}\r\ncontent-type: application/json`,
          JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "x" }] }),
        ],
        ["GET /healthz HTTP/1.1", ""],
      ] as const) {
        const { status, text } = await rawRequest(proxy.port, head, body, host);
        expect(status).toBe(400);
        const { contentType, json } = parseRaw(text);
        expect(contentType).toStartWith("application/json");
        expect(json.error).toMatchObject({ code: "invalid_host", param: "host", type: "invalid_request_error" });
      }
      expect(seen()).toBe(before);
    });
  }

  test("an HTTP/1.0 request without Host is served or refused as JSON, never a runtime error page", async () => {
    const text = await new Promise<string>((resolve, reject) => {
      const socket = connect(proxy.port, "127.0.0.1");
      let answer = "";
      socket.setEncoding("utf8");
      socket.on("data", (chunk) => (answer += chunk));
      socket.on("end", () => resolve(answer));
      socket.on("error", reject);
      socket.write(`GET /v1/models HTTP/1.0\r\nauthorization: Bearer ${FULL}\r\n\r\n`);
    });
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1]);
    const { json } = parseRaw(text);
    // Deno fills in its own host and serves it; Bun hands over a bare path, refused by name
    if (status === 200) expect(json.object).toBe("list");
    else expect([status, json?.error?.code]).toEqual([400, "invalid_host"]);
  });

  test("a path that does not percent-decode is a 400, not a guess sent on as 'null'", async () => {
    const before = seen();
    // well-formed escapes that are not UTF-8, and escapes that are not escapes at all
    for (const [target, code] of [
      ["/v1/responses/%E0%A4%A0%E0", "invalid_request_target"],
      ["/v1/models/%C3%28", "invalid_request_target"],
      ["/openai/v1/files/%zz/content", "invalid_url"],
      ["/v1/models/%E0%A4%A", "invalid_url"],
    ]) {
      const { status, text } = await rawRequest(proxy.port, `GET ${target} HTTP/1.1\r\nauthorization: Bearer ${FULL}`, "");
      expect(status).toBe(400);
      expect(parseRaw(text).json.error.code).toBe(code);
    }
    expect(seen()).toBe(before);
  });

  // the other side of the check above: what RFC 9110 allows is still served
  test("valid Host forms (IPv6 literal, a name with a port) are served", async () => {
    for (const host of ["[::1]:8000", "localhost:65535", "api", "proxy.internal."]) {
      const { status, text } = await rawRequest(proxy.port, `GET /v1/models HTTP/1.1\r\nauthorization: Bearer ${FULL}`, "", host);
      expect(status).toBe(200);
      expect(parseRaw(text).json.object).toBe("list");
    }
  });
});
