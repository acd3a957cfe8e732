import { describe, expect, test } from "bun:test";
import { mkdtempSync, openSync, readFileSync, writeFileSync } from "node:fs";
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

  test("processes sharing one full pipe (the cluster's workers) never split each other's lines", async () => {
    // each writer fills batches of 64 KiB while the reader waits, so the pipe is full and a
    // write bigger than PIPE_BUF would be cut by the other process's bytes
    const dir = mkdtempSync(join(tmpdir(), "log-writer-"));
    const script = join(dir, "writer.ts");
    writeFileSync(
      script,
      `import { batchedLines } from ${JSON.stringify(join(import.meta.dir, "log-writer.ts"))};
const writer = batchedLines(1);
for (let i = 0; i < 2000; i++) writer.write(process.argv[2] + " " + i + " " + "x".repeat(900));
writer.flush();\n`,
    );
    const bun = JSON.stringify(process.execPath);
    const shell = Bun.spawn(["sh", "-c", `(${bun} ${script} a & ${bun} ${script} b & wait) | (sleep 1; cat)`], { stdout: "pipe" });
    const lines = (await new Response(shell.stdout).text()).split("\n").slice(0, -1);
    expect(lines.length).toBe(4000);
    expect(lines.filter((line) => !/^[ab] \d+ x{900}$/.test(line))).toEqual([]);
  }, 20000);

  // the repository's Deno (package.json), beside the Bun running the tests
  const runtimes: [string, string[]][] = [
    ["bun", [process.execPath]],
    ["deno", [join(import.meta.dir, "../../node_modules/.bin/deno"), "run", "-A"]],
  ];
  for (const [runtime, command] of runtimes) {
    test(`a crash (an uncaught error or rejection) on ${runtime} still writes the batch before it`, async () => {
      const dir = mkdtempSync(join(tmpdir(), "log-writer-"));
      const script = join(dir, "crash.ts");
      writeFileSync(
        script,
        `import { stdoutLines } from ${JSON.stringify(join(import.meta.dir, "log-writer.ts"))};
stdoutLines().write("the line before the crash");
if (process.argv.includes("reject")) Promise.reject(new Error("rejected"));
else setTimeout(() => { throw new Error("thrown"); }, 1);\n`,
      );
      for (const how of ["throw", "reject"]) {
        const child = Bun.spawn([...command, script, how], { stdout: "pipe", stderr: "ignore" });
        expect(await new Response(child.stdout).text()).toBe("the line before the crash\n");
        expect(await child.exited).not.toBe(0);
      }
    }, 20000);
  }
});
