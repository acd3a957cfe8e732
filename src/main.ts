#!/usr/bin/env bun
/** Entry point: find the runtime, run the command line, exit with its code. */
import { runCli } from "./cli/index.ts";
import { detectRuntime } from "./runtime/detect.ts";

try {
  const runtime = await detectRuntime();
  process.exit(await runCli(process.argv.slice(2), runtime));
} catch (error) {
  console.error(`azure-proxy: ${(error as Error).stack ?? error}`);
  process.exit(1);
}
