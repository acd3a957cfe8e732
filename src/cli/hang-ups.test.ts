import { expect, test } from "bun:test";
import { onHangUp, serves } from "./hang-ups.ts";

test("the command lines that serve are the ones whose SIGHUP is caught from the start", () => {
  for (const argv of [[], ["serve"], ["serve", "--config", "c.yaml"], ["--port", "9000"], ["worker"]]) expect(serves(argv)).toBe(true);
  for (const argv of [["check"], ["usage", "report"], ["healthcheck"], ["demo"], ["simulate"], ["help"]]) expect(serves(argv)).toBe(false);
});

// one kept before any handler (a real SIGHUP inside the config read) is test/contract/reload.test.ts's
test("once a handler is set, every hang-up goes to the newest one and none is kept", () => {
  // process.emit runs the listeners as a delivered SIGHUP would (no real signal: this is the test runner)
  expect(onHangUp(() => {})).toBe(false);
  let handled = 0;
  process.emit("SIGHUP");
  expect(onHangUp(() => handled++)).toBe(false); // it went to the first handler, nothing was kept
  process.emit("SIGHUP");
  process.emit("SIGHUP");
  expect(handled).toBe(2);
});
