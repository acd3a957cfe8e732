import { describe, expect, test } from "bun:test";
import { Failure } from "../lib/failure.ts";
import { checkedUrl } from "./request-target.ts";

// What the runtimes hand over, byte for byte: `new Request()` would normalise the URL first.
const request = (url: string, host: string | null) => ({ url, headers: new Headers(host === null ? {} : { host }) }) as unknown as Request;
const codeOf = (result: URL | Failure) => (result instanceof Failure ? result.detail.code : "ok");

describe("checkedUrl", () => {
  test("hosts: names, IP literals and ports up to 65535 pass; the rest is invalid_host", () => {
    for (const host of ["api", "127.0.0.1", "proxy.internal.", "[::1]", "[::1]:8000", "localhost:65535", "localhost:"]) {
      expect(codeOf(checkedUrl(request(`http://${host}/v1/models`, host)))).toBe("ok");
    }
    for (const host of [
      "",
      "user@h",
      "h:65536",
      "h:99999",
      "h:8a",
      "[::1",
      "[fe80::1%25eth0]",
      "a".repeat(254),
      "h?x",
      "h/x",
      "h#x",
      "h\\x",
      "exa mple",
      "1.2.3.4.5",
    ]) {
      expect(codeOf(checkedUrl(request(`http://${host}/v1/models`, host)))).toBe("invalid_host");
    }
  });

  test("the parsed path must be the router's path", () => {
    expect(codeOf(checkedUrl(request("http://h/v1/files/x?after=a/b", "h")))).toBe("ok");
    for (const url of ["http://h/v1/files/../../healthz", "http://h/v1/files/%2e%2e/healthz", "http://a?b/v1/files/x", "http://h/v1/files/%E0%A4%A0%E0"]) {
      expect(codeOf(checkedUrl(request(url, "h")))).toBe("invalid_request_target");
    }
  });

  test("characters a target may not hold are refused before the path is compared", () => {
    for (const url of [
      "http://h/v1\\files",
      "http://h/v1/files#x",
      "http://h/v1/files/%E0%A4%A",
      "http://h/v1/files/%zz",
      "http://h/v1/files/a%00b",
      "http://h/v1/files?x=#y",
    ]) {
      expect(codeOf(checkedUrl(request(url, "h")))).toBe("invalid_url");
    }
  });

  test("Bun's bare path for a request without Host is refused by name", () => {
    expect(codeOf(checkedUrl(request("/v1/models", null)))).toBe("invalid_host");
    expect(codeOf(checkedUrl(request("http://localhost:8000/v1/models", null)))).toBe("ok");
  });
});
