#!/usr/bin/env bun
/** Entry point: find the runtime, run the command line, exit with its code. */
import { catchHangUps, serves } from "./cli/hang-ups.ts";
import { runCli } from "./cli/index.ts";
import { detectRuntime } from "./runtime/detect.ts";

// first: a SIGHUP from here on cannot end a serving process (cli/hang-ups.ts says why)
if (serves(process.argv.slice(2))) catchHangUps();
try {
  const runtime = await detectRuntime();
  process.exit(await runCli(process.argv.slice(2), runtime));
} catch (error) {
  console.error(`azure-proxy: ${(error as Error).stack ?? error}`);
  process.exit(1);
}
