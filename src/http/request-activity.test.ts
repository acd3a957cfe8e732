import { expect, test } from "bun:test";
import { RequestActivity } from "./request-activity.ts";

test("every request counts, refused or not, but liveness, readiness and metrics probes", () => {
  const activity = new RequestActivity();
  for (const probe of ["/healthz", "/readyz", "/metrics"]) activity.saw(probe);
  expect(activity.started).toBe(0);
  for (const path of ["/v1/chat/completions", "/admin/status", "/v1/realtime", "(invalid)", "/healthz/x"]) activity.saw(path);
  expect(activity.started).toBe(5);
});
