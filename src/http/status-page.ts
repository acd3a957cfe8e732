/**
 * GET /status: the status page (status/page.ts). It needs no key to load, since it holds no data;
 * its script asks for an admin key and reads GET /admin/status. The answer is built once: the
 * bytes, and a Content-Security-Policy that lets only this page's own script (by its SHA-256)
 * and styles run and lets it talk only to this origin, so a name in the config cannot smuggle
 * script into an operator's browser even if escaping were ever missed.
 */
import { createHash } from "node:crypto";
import { Elysia } from "elysia";
import { STATUS_PAGE } from "../status/page.ts";

function scriptHashes(html: string): string {
  const hashes: string[] = [];
  for (const match of html.matchAll(/<script>([\s\S]*?)<\/script>/g)) hashes.push(`'sha256-${createHash("sha256").update(match[1]!).digest("base64")}'`);
  return hashes.join(" ");
}

export function statusPage() {
  const body = new TextEncoder().encode(STATUS_PAGE);
  const headers = {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-cache",
    "content-security-policy": `default-src 'none'; script-src ${scriptHashes(STATUS_PAGE)}; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
  };
  return new Elysia({ name: "status-page" }).get("/status", () => new Response(body, { headers }));
}
