import { describe, expect, test } from "bun:test";
import { keptUpstreamHeaders, proxySrcGroup } from "./headers.ts";

describe("Azure's response headers kept for the client", () => {
  test("Azure's x-request-id is kept as x-upstream-request-id, an empty one not at all", () => {
    expect(Object.fromEntries(keptUpstreamHeaders(new Headers({ "X-Request-Id": "abc" })))).toEqual({ "x-upstream-request-id": "abc" });
    expect(Object.fromEntries(keptUpstreamHeaders(new Headers({ "x-request-id": "" })))).toEqual({});
  });

  test("names lower-cased, repeated headers joined once, others dropped", () => {
    const upstream = new Headers([
      ["Content-Type", "application/json"],
      ["x-ratelimit-remaining-requests", "9"],
      ["x-ms-region", "a"],
      ["x-ms-region", "b"],
      ["set-cookie", "s=1"],
      ["server", "azure"],
      ["content-length", "12"],
      ["transfer-encoding", "chunked"],
      ["x-request-id", "azure-id"],
      // a gateway in front of Azure (another proxy) may send its own: ours, from Azure's x-request-id, wins
      ["x-upstream-request-id", "theirs"],
    ]);
    expect(Object.fromEntries(keptUpstreamHeaders(upstream))).toEqual({
      "content-type": "application/json",
      "x-ms-region": "a, b",
      "x-ratelimit-remaining-requests": "9",
      "x-upstream-request-id": "azure-id",
    });
  });
});

describe("the Proxy-src group", () => {
  test("read the same everywhere: absent or empty names no group", () => {
    expect(proxySrcGroup(new Headers())).toBeUndefined();
    expect(proxySrcGroup(new Headers({ "proxy-src": "" }))).toBeUndefined();
    expect(proxySrcGroup(new Headers({ "Proxy-src": "east" }))).toBe("east");
    // what the HTTP parser leaves is trimmed too: a value of blanks names no group
    expect(proxySrcGroup({ get: () => "  east " } as unknown as Headers)).toBe("east");
    expect(proxySrcGroup({ get: () => "   " } as unknown as Headers)).toBeUndefined();
  });
});
