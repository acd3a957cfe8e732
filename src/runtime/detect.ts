import type { RuntimeAdapter } from "./types.ts";

/** The adapter for the runtime we are on; each is imported only where it can load. */
export async function detectRuntime(): Promise<RuntimeAdapter> {
  if ("Bun" in globalThis) return (await import("./bun.ts")).bunRuntime;
  if ("Deno" in globalThis) return (await import("./deno.ts")).denoRuntime;
  throw new Error("azure-proxy runs on Bun or Deno");
}
