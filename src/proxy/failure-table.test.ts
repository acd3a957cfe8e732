import { describe, expect, test } from "bun:test";
import { Failure } from "../lib/failure.ts";
import { classify, FAILURE_TABLE, outcomeOf, rowFor } from "./failure-table.ts";

const status = (n: number) => new Failure("upstream_status", "x", { status: n });

describe("the failure table", () => {
  test("refused connections, DNS/TLS failures and connect timeouts cool the whole resource", () => {
    for (const f of [new Failure("upstream_unreachable", "x", { origin: "connect" }), new Failure("upstream_timeout", "x", { origin: "connect_timeout" })]) {
      expect(rowFor(f)).toMatchObject({ retry: true, scope: "resource", duration: "default" });
    }
    expect(outcomeOf(new Failure("upstream_unreachable", "x", { origin: "connect" }))).toBe("connect_error");
  });

  test("429 and 503 cool the deployment for Azure's Retry-After", () => {
    expect(rowFor(status(429))).toMatchObject({ retry: true, scope: "deployment", duration: "retry_after", outcome: "429" });
    expect(rowFor(status(503))).toMatchObject({ retry: true, scope: "deployment", duration: "retry_after", outcome: "5xx" });
  });

  test("500/502/504 and timeouts before the first byte cool the deployment only, for the default; a 500 softly and once per request", () => {
    for (const n of [500, 502, 504])
      expect(rowFor(status(n))).toMatchObject({ retry: true, scope: "deployment", duration: "default", firstOnly: true, soft: true });
    expect(classify(new Failure("upstream_timeout", "x", { origin: "first_byte" }))).toBe("first_byte_timeout");
    expect(classify(new Failure("upstream_timeout", "x", { origin: "idle" }))).toBe("idle_timeout");
    for (const k of ["first_byte_timeout", "idle_timeout"] as const)
      expect(FAILURE_TABLE[k]).toMatchObject({ retry: true, scope: "deployment", duration: "default", outcome: "timeout" });
  });

  test("Azure refusing our credentials cools the resource, after one fresh token; a token we could not get cools it at once", () => {
    expect(rowFor(new Failure("upstream_auth", "x", { origin: "refused" }))).toMatchObject({ scope: "resource", refreshToken: true, outcome: "auth_error" });
    const token = rowFor(new Failure("upstream_auth", "x", { origin: "token" }));
    expect(token).toMatchObject({ scope: "resource", retry: true });
    expect(token.refreshToken).toBeUndefined();
  });

  test("client errors neither retry nor cool; the client going away keeps its kind as outcome", () => {
    for (const n of [400, 404, 413]) expect(rowFor(status(n))).toMatchObject({ retry: false, scope: "none", outcome: "4xx" });
    expect(rowFor(new Failure("upstream_broke", "x"))).toMatchObject({ retry: false, scope: "none" });
    expect(outcomeOf(new Failure("upstream_broke", "x"))).toBe("upstream_broke");
    expect(rowFor(new Failure("not_found", "x", { code: "operation_not_available" }))).toMatchObject({ retry: true, scope: "none" });
  });

  test("every row that cools says for how long; none that does not", () => {
    for (const row of Object.values(FAILURE_TABLE)) expect(row.scope === "none").toBe(row.duration === null);
  });
});
