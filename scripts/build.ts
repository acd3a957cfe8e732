/**
 * `npm run build`: the self-contained executable dist/azure-proxy for this host (Bun runtime,
 * our code and every dependency inside; no Bun, Node or node_modules needed to run it).
 * `--outfile PATH` builds elsewhere (the binary test uses a temp dir).
 */
import { parseArgs } from "node:util";
import { resolve } from "node:path";

const { values } = parseArgs({ args: Bun.argv.slice(2), options: { outfile: { type: "string" } } });
const root = resolve(import.meta.dir, "..");
const outfile = resolve(values.outfile ?? resolve(root, "dist/azure-proxy"));

const result = await Bun.build({
  entrypoints: [resolve(root, "src/main.ts")],
  compile: { outfile },
  minify: true,
  // precompiled bytecode: cold start to first answer 138 → 61 ms (bench), for ~5 MB of binary
  bytecode: true,
  format: "esm",
  // what is imported only when used (ioredis, the simulator, Elysia's file-type sniffing, the
  // cluster's primary and worker, the SQLite store, the reports and other subcommands, the other
  // runtime's adapter) becomes its own module in the binary, not loaded until then: idle RSS
  // (pages read back) 53.2 → 51.7 MB, cold start 82-87 → 72-78 ms (bench/startup.ts). Each
  // module's map is written beside the binary.
  splitting: true,
  sourcemap: "linked",
  // The binary never runs the test tools; keep them out even if something imports them by mistake.
  external: ["bun:test", "fast-check", "openai"],
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
const { size } = Bun.file(outfile);
console.log(`built ${outfile} (${(size / 1024 / 1024).toFixed(1)} MB)`);
