/**
 * The status page in a real browser: Debian's headless Chromium (installed by
 * .ci/install-deploy-deps), driven by puppeteer-core (no browser of its own is downloaded), in
 * front of a real proxy and two simulator resources. It waits for what the page shows, never for
 * a fixed time. Screenshots at 1280×800 and 375 px wide, light and dark, go to
 * test/status/screenshots/ (README "Status page"), so a person can look at what the test saw.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync } from "node:fs";
import { resolve } from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { configFile } from "../harness/config-file.ts";
import { chatBody, post } from "../harness/fixture.ts";
import { startProxy, type RunningProxy } from "../harness/proxy.ts";
import { startSimulator, type RunningSimulator } from "../harness/simulator.ts";
import { readEvents } from "../harness/sse.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
// written by every run (gitignored); docs/screenshots/ keeps the copies the README shows
const SHOTS = resolve(import.meta.dir, "screenshots");
const ADMIN = "page-admin-key";
const ALICE = "page-alice-key";
const BOB = "page-bob-key";
const WAIT = { timeout: 15_000 };

let eastus: RunningSimulator;
let westus: RunningSimulator;
let proxy: RunningProxy;
let browser: Browser;

const chat = async (key: string, content: string, extra: Record<string, unknown> = {}) => {
  const response = await post(`${proxy.url}/v1/chat/completions`, chatBody(content, extra), { authorization: `Bearer ${key}` });
  if (extra.stream) await readEvents(response);
  else await response.text();
  return response.status;
};

/** Script errors of every page opened: each test ends by checking there were none. */
const pageErrors: string[] = [];

async function openPage(width = 1280, height = 800): Promise<Page> {
  const page = await browser.newPage();
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  await page.setViewport({ width, height });
  await page.goto(`${proxy.url}/status`, { waitUntil: "load" });
  return page;
}

async function signIn(page: Page, key: string): Promise<void> {
  await page.waitForSelector("#key", { visible: true, ...WAIT });
  // keyboard only: the field has focus on load, Enter submits
  await page.keyboard.type(key);
  await page.keyboard.press("Enter");
}

const stateOf = (page: Page, upstream: string, deployment: string) =>
  page.$eval(`[data-upstream="${upstream}"] tr[data-deployment="${deployment}"]`, (row) => row.getAttribute("data-state"));

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: run .ci/install-deploy-deps (Debian package chromium) or set CHROMIUM_PATH`);
  eastus = await startSimulator({ name: "eastus" });
  westus = await startSimulator({ name: "westus" });
  const config = {
    upstreams: [
      {
        name: "eastus",
        endpoint: eastus.url,
        api_key: eastus.key,
        api_version: "2024-10-21",
        deployments: { "gpt-4o": "gpt-4o", "gpt-4o-mini": "gpt-4o-mini", "text-embedding-3-small": "text-embedding-3-small" },
      },
      { name: "westus", endpoint: westus.url, api_key: westus.key, priority: 1, deployments: { "gpt-4o": "gpt-4o" } },
    ],
    keys: [
      { name: "ops", key: ADMIN, admin: true },
      { name: "alice", key: ALICE, budget: { tokens_per_day: 2000, usd_per_month: 50 } },
      { name: "bob", key: BOB },
    ],
    prices: { "gpt-4o": { input: 2.5, cached_input: 1.25, output: 10 }, "gpt-4o-mini": { input: 0.15, output: 0.6 } },
  };
  proxy = await startProxy({ args: ["serve", "--config", configFile(config).path, "--workers", "1"] });
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // root in a container has no user namespaces for Chromium's sandbox; the page is our own
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions"],
    timeout: 30_000,
  });
}, 60_000);

afterEach(() => {
  expect(pageErrors.splice(0)).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await proxy?.stop();
  await eastus?.stop();
  await westus?.stop();
});

describe("the status page in Chromium", () => {
  test("it loads without a key and asks for one", async () => {
    const page = await openPage();
    await page.waitForSelector("#login", { visible: true, ...WAIT });
    expect(await page.$eval("#meta", (e) => e.textContent)).toBe("Not signed in");
    expect(await page.$eval("#board", (e) => (e as HTMLElement).hidden)).toBe(true);
    // the field is where typing goes
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("key");
    await page.close();
  }, 30_000);

  test("a wrong key is refused with a clear message, and the form stays", async () => {
    const page = await openPage();
    await signIn(page, "not-a-key");
    await page.waitForFunction(() => !document.getElementById("alert")!.hidden, WAIT);
    expect(await page.$eval("#alert", (e) => e.textContent)).toBe("This key was refused: Incorrect API key provided.");
    expect(await page.$eval("#login", (e) => (e as HTMLElement).hidden)).toBe(false);
    expect(await page.evaluate(() => sessionStorage.getItem("azure-proxy-admin-key"))).toBeNull();
    // a client key that is not an admin's is told so
    await signIn(page, ALICE);
    await page.waitForFunction(() => document.getElementById("alert")!.textContent!.includes("not an admin key"), WAIT);
    expect(await page.$eval("#alert", (e) => e.textContent)).toContain("keys[].admin");
    await page.close();
  }, 30_000);

  test("signed in, it shows each upstream and its deployments, and keeps the key for the tab", async () => {
    const page = await openPage();
    await signIn(page, ADMIN);
    await page.waitForSelector('[data-upstream="westus"]', WAIT);
    const upstreams = await page.$$eval("[data-upstream]", (els) => els.map((e) => e.getAttribute("data-upstream")));
    expect(upstreams).toEqual(["eastus", "westus"]);
    const rows = await page.$$eval('[data-upstream="eastus"] tr[data-deployment]', (els) =>
      els.map((e) => [e.getAttribute("data-deployment"), e.getAttribute("data-state"), e.textContent]),
    );
    expect(rows.map((r) => r[0])).toEqual(["gpt-4o", "gpt-4o-mini", "text-embedding-3-small"]);
    // the state is written as a word, not colour alone
    for (const [, state, text] of rows) expect([state, text]).toEqual(["ok", expect.stringContaining("ok")]);
    expect(await page.evaluate(() => sessionStorage.getItem("azure-proxy-admin-key"))).toBe(ADMIN);
    expect(await page.$eval("#meta", (e) => e.textContent)).toMatch(/^v\d+\.\d+\.\d+ · 1 worker · config loaded .* · last reload: none since start · updated /);
    // a reload of the tab signs in again by itself
    await page.reload({ waitUntil: "load" });
    await page.waitForSelector('[data-upstream="eastus"]', WAIT);
    await page.close();
  }, 30_000);

  test("by keyboard alone: Tab reaches Change key, Enter forgets the key and asks again", async () => {
    const page = await openPage();
    await signIn(page, ADMIN);
    await page.waitForSelector('[data-upstream="eastus"]', WAIT);
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("signout");
    await page.keyboard.press("Enter");
    await page.waitForSelector("#login", { visible: true, ...WAIT });
    expect(await page.evaluate(() => sessionStorage.getItem("azure-proxy-admin-key"))).toBeNull();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("key");
    await page.close();
  }, 30_000);

  test("a deployment shows cooling with a countdown after a 429, and ok after its end", async () => {
    const page = await openPage();
    await signIn(page, ADMIN);
    await page.waitForSelector('[data-upstream="eastus"] tr[data-deployment="gpt-4o"][data-state="ok"]', WAIT);
    // westus answers instead: the client sees a 200
    expect(await chat(ALICE, "[sim status=429 retry_after=3 on=eastus]")).toBe(200);
    const cooling = '[data-upstream="eastus"] tr[data-deployment="gpt-4o"][data-state="cooling"]';
    await page.waitForSelector(cooling, WAIT);
    expect(await page.$eval(cooling, (row) => row.querySelector(".badge")!.textContent)).toContain("cooling");
    await page.waitForFunction((sel: string) => /^[1-3] s left$/.test(document.querySelector(`${sel} .countdown`)?.textContent ?? ""), WAIT, cooling);
    expect(await stateOf(page, "eastus", "gpt-4o-mini")).toBe("ok");
    await page.waitForSelector('[data-upstream="eastus"] tr[data-deployment="gpt-4o"][data-state="ok"]', WAIT);
    await page.close();
  }, 30_000);

  test("a key's usage rises after traffic, and the charts draw the points", async () => {
    const page = await openPage();
    await signIn(page, ADMIN);
    await page.waitForSelector('[data-key="alice"]', WAIT);
    const before = Number(await page.$eval('[data-key="alice"]', (e) => e.getAttribute("data-today-tokens")));
    for (let i = 0; i < 4; i++) expect(await chat(ALICE, `question ${i}`)).toBe(200);
    expect(await chat(ALICE, "a streamed answer", { stream: true })).toBe(200);
    await page.waitForFunction((n: number) => Number(document.querySelector('[data-key="alice"]')?.getAttribute("data-today-tokens")) > n, WAIT, before);
    const bar = await page.$eval('[data-key="alice"] [role="meter"]', (e) => [Number(e.getAttribute("aria-valuenow")), e.getAttribute("aria-label")]);
    expect(bar[0]).toBeGreaterThan(0);
    expect(bar[1]).toMatch(/^Today: \d+% of 2,000 tokens\/day/);
    // the requests chart: 60 points, the traffic's minute above the baseline: the last point, or
    // the one before it when a minute began since the calls (else this fails near hh:mm:59)
    await page.waitForFunction(() => {
      const chart = document.querySelector("#charts figure svg");
      const baseline = Number(chart?.querySelector("line")?.getAttribute("y1"));
      const points = (chart?.querySelector("polyline")?.getAttribute("points") ?? "").trim().split(" ");
      const y = (back: number) => Number(points[points.length - back]?.split(",")[1]);
      return points.length === 60 && baseline > 0 && (y(1) < baseline || y(2) < baseline);
    }, WAIT);
    // the latency chart has its p50 for this minute (a lone minute is a dot)
    const latency = await page.$$eval("#charts figure", (figs) => figs[2]!.querySelectorAll("polyline, circle").length);
    expect(latency).toBeGreaterThan(0);
    await page.close();
  }, 30_000);

  test("nothing moves when it refreshes", async () => {
    const page = await openPage();
    await signIn(page, ADMIN);
    await page.waitForSelector('[data-upstream="eastus"]', WAIT);
    const boxes = () =>
      page.$$eval("main section, #charts figure, [data-key]", (els) =>
        els.map((e) => {
          const r = e.getBoundingClientRect();
          return [Math.round(r.top), Math.round(r.height)];
        }),
      );
    const updated = await page.$eval("#meta", (e) => e.textContent);
    const first = await boxes();
    await chat(BOB, "traffic between two refreshes");
    await page.waitForFunction((was: string) => document.getElementById("meta")!.textContent !== was, WAIT, updated);
    expect(await boxes()).toEqual(first);
    await page.close();
  }, 30_000);

  test("screenshots at 1280×800 and 375 px, light and dark", async () => {
    mkdirSync(SHOTS, { recursive: true });
    // something to look at: a cooling deployment, errors of two kinds, a stream, spend by two keys
    await chat(BOB, "[sim status=500]", { model: "gpt-4o-mini" });
    await chat(ALICE, "[sim status=429 retry_after=45 on=eastus]", { model: "gpt-4o-mini" });
    for (let i = 0; i < 3; i++) await chat(BOB, `bob ${i}`, { stream: i === 0 });
    for (const [width, height] of [
      [1280, 800],
      [375, 812],
    ] as const) {
      for (const scheme of ["light", "dark"] as const) {
        const page = await browser.newPage();
        page.on("pageerror", (error) => pageErrors.push(String(error)));
        await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: scheme }]);
        await page.setViewport({ width, height });
        await page.goto(`${proxy.url}/status`, { waitUntil: "load" });
        await signIn(page, ADMIN);
        await page.waitForSelector('[data-upstream="eastus"] tr[data-deployment="gpt-4o-mini"][data-state="cooling"]', WAIT);
        await page.waitForSelector('[data-key="bob"]', WAIT);
        // nothing wider than the screen
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
        const path = `${SHOTS}/status-${width}-${scheme}.png`;
        await page.screenshot({ path, fullPage: width < 600 });
        expect(existsSync(path)).toBe(true);
        await page.close();
      }
    }
  }, 60_000);
});
