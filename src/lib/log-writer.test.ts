import { describe, expect, test } from "bun:test";
import { mkdtempSync, openSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { batchedLines } from "./log-writer.ts";

function sink() {
  const file = join(mkdtempSync(join(tmpdir(), "log-writer-")), "out.log");
  return { fd: openSync(file, "w"), read: () => readFileSync(file, "utf8") };
}

describe("batched log lines", () => {
  test("lines wait for the batch, in order, and a flush writes them all", () => {
    const out = sink();
    const writer = batchedLines(out.fd);
    writer.write("one");
    writer.write("two");
    expect(out.read()).toBe("");
    writer.flush();
    expect(out.read()).toBe("one\ntwo\n");
  });

  test("an urgent line (a warning, an error) goes out at once, with everything before it", () => {
    const out = sink();
    const writer = batchedLines(out.fd);
    writer.write("request");
    writer.write("upstream attempt failed", true);
    expect(out.read()).toBe("request\nupstream attempt failed\n");
  });

  test("the batch is written by its timer without a flush", async () => {
    const out = sink();
    const writer = batchedLines(out.fd);
    writer.write("later");
    for (let i = 0; i < 50 && out.read() === ""; i++) await Bun.sleep(5);
    expect(out.read()).toBe("later\n");
  });

  test("a large batch is written when it reaches its size, not held in memory", () => {
    const out = sink();
    const writer = batchedLines(out.fd);
    const line = "x".repeat(1000);
    for (let i = 0; i < 70; i++) writer.write(line);
    expect(out.read().length).toBeGreaterThanOrEqual(64 * 1001);
    writer.flush();
    expect(out.read().split("\n").length - 1).toBe(70);
  });
});
