/** The README is part of the contract: its env table and commands must match the code. */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ENV_NAMES } from "../src/config/env-schema.ts";

const root = resolve(import.meta.dir, "..");
const readme = readFileSync(resolve(root, "README.md"), "utf8");
const pkg = JSON.parse(readFileSync(resolve(root, "package.json"), "utf8"));

test("every environment variable the code reads is in the README's table", () => {
  const table = readme.slice(readme.indexOf("| variable |"), readme.indexOf("Invalid values stop"));
  for (const name of ENV_NAMES) expect(table).toContain(`\`${name}\``);
});

test("the quick start's two commands exist as npm scripts", () => {
  expect(readme).toContain("npm ci && npm run demo");
  expect(readme).toContain("npm test ");
  expect(pkg.scripts.demo).toBeDefined();
  expect(pkg.scripts.test).toStartWith("bun test");
});

test(".ci/run calls the README's test command", () => {
  expect(readFileSync(resolve(root, ".ci/run"), "utf8")).toContain("npm test");
});

test("the README's config reference is the one the schema generates", async () => {
  const { configReference } = await import("../src/config/reference.ts");
  const block = /<!-- config-reference:start -->\n([\s\S]*)\n<!-- config-reference:end -->/.exec(readme)?.[1];
  expect(block).toBe(configReference());
});
