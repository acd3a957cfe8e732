/**
 * `npm run bench` (about 6 minutes) or `npm run bench -- --quick` (about 4): the same workloads
 * against the mock Azure directly, Debian's nginx doing the same rewrite, the bun floor
 * (floor-proxy.ts) and our compiled binary; tables on stdout, the last one issue 12's speed
 * table (speed-table.ts), and a JSON file in bench/results/ (that table under `issue12`, with
 * a Markdown copy).
 *   --binary PATH   measure this binary instead of building one from the working tree
 *                   (the build goes to bench/.build/azure-proxy)
 *   --only LIST     run only these phases: startup,requests,streams,aborts,slow,workers,upload,headroom,forms,state
 * Needs wrk, nginx, taskset, setpriv, ss and node (apt-get install wrk nginx); the state phase
 * also redis-server and redis-cli (apt-get install redis-server).
 * Core layout (2 cores): core 0 = mock upstream + load generators (wrk, sse-client, slow
 * reader) + this script; core 1 = the proxy under test (nginx's one worker, or all of our
 * binary's threads). Everything listens on 127.0.0.1; every phase is bounded in count and time;
 * every process started is stopped at the end, on an error and on Ctrl-C. Other work on the
 * machine is detected (CPU not ours, per measurement) and named under the table.
 * Also here: profile.ts (where the CPU goes, GC counts), startup.ts and upload-memory.ts (also
 * run on their own), tiny-part-form.ts (a 25 MB form of tiny parts; also on its own), fixups.ts
 * (per-event cost of the stream fix-ups).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { FULL, LOAD_CORE, PROXY_CORE, QUICK, type Ctx } from "./context.ts";
import { startMock } from "./mock-control.ts";
import { disturbed, freePort, machineBusy, machineCpuMs, ourCpuMs, pinSelf, rssMb, runToEnd, stopAll } from "./lib/procs.ts";
import { startNginx } from "./nginx.ts";
import { abortPhase } from "./phases/aborts.ts";
import { requestPhase } from "./phases/requests.ts";
import { slowReaderPhase } from "./phases/slow-reader.ts";
import { statePhase } from "./phases/state.ts";
import { streamPhase } from "./phases/streams.ts";
import { workersPhase } from "./phases/workers.ts";
import { rssAfterFirstAnswer, startupPhase, startupRows } from "./phases/startup.ts";
import { MAIN_COLUMNS, renderSection, row, type Row, type Section } from "./report.ts";
import { type SpeedFigures, speedJson, speedSection } from "./speed-table.ts";
import { round } from "./lib/stats.ts";
import { API_VERSION, CLIENT_KEY, DEPLOYMENT, UPSTREAM_KEY, buildFloor, directTarget, proxiedTarget, startFloor, startOurs } from "./targets.ts";
import { measureTinyPartForm } from "./tiny-part-form.ts";
import { measureUploadMemory } from "./upload-memory.ts";
import { headroomSection, measureHeadroom } from "./headroom.ts";

const ROOT = resolve(import.meta.dir, "..");
const { values: args } = parseArgs({ args: Bun.argv.slice(2), options: { quick: { type: "boolean" }, binary: { type: "string" }, only: { type: "string" } } });
const mode = args.quick ? QUICK : FULL;
const PHASES = ["startup", "requests", "streams", "aborts", "slow", "workers", "upload", "headroom", "forms", "state"] as const;
const only = new Set(args.only ? args.only.split(",") : PHASES.filter((p) => p !== "upload" || mode.upload));
for (const p of only) if (!(PHASES as readonly string[]).includes(p)) throw new Error(`--only: unknown phase "${p}" (${PHASES.join(", ")})`);
const bun = process.execPath;
const started = performance.now();
const progress = (message: string) => console.error(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}`);

let dir = "";
let finished = false;
let stopping: Promise<never> | null = null;
/** Stop everything we started, once, however we got here (end, error, Ctrl-C). */
function shutdown(code: number): Promise<never> {
  stopping ??= (async () => {
    await stopAll();
    if (dir && (finished || code === 130)) rmSync(dir, { recursive: true, force: true });
    else if (dir) console.error(`logs kept in ${dir}`);
    process.exit(code);
  })();
  return stopping;
}
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    if (!stopping) console.error(`\n${signal}: stopping everything the benchmark started`);
    void shutdown(130);
  });
}

function requireTools() {
  const missing = ["wrk", "nginx", "taskset", "setpriv", "ss", "node"].filter((tool) => !Bun.which(tool, { PATH: `${process.env.PATH}:/usr/sbin:/sbin` }));
  if (missing.length) throw new Error(`missing tools: ${missing.join(", ")} (Debian: apt-get install -y wrk nginx util-linux iproute2 nodejs)`);
  if (navigator.hardwareConcurrency < 2) throw new Error("needs 2 cores: one for the load and the upstream, one for the proxy");
}

async function binaryPath(): Promise<string> {
  if (args.binary) return resolve(args.binary);
  const outfile = join(ROOT, "bench/.build/azure-proxy");
  progress("building the binary from the working tree");
  await runToEnd([bun, join(ROOT, "scripts/build.ts"), "--outfile", outfile], { core: null, timeoutMs: 120_000 });
  return outfile;
}

async function main() {
  requireTools();
  pinSelf(LOAD_CORE);
  const busyBefore = await machineBusy();
  const cpuAtStart = { machine: machineCpuMs(), ours: ourCpuMs(), at: performance.now() };
  if (busyBefore > 0.1)
    progress(`warning: the machine is ${(busyBefore * 100).toFixed(0)}% busy before we start; figures will be noisy (ratios to nginx drift less)`);
  const binary = await binaryPath();
  const floorBinary = await buildFloor(bun);
  dir = mkdtempSync(join(tmpdir(), "azure-proxy-bench-"));
  const mock = await startMock(await freePort(), LOAD_CORE, bun);
  const sections: Section[] = [];
  const main: Row[] = [];
  const data: Record<string, unknown> = {};
  const speed: SpeedFigures = {};
  const startup = only.has("startup") ? await startupPhase({ mode, binary, floorBinary, mockPort: mock.port, progress }) : null;

  const nginxPort = await freePort();
  const nginxChild = await startNginx({
    dir: join(dir, "nginx"),
    port: nginxPort,
    upstreamPort: mock.port,
    upstreamKey: UPSTREAM_KEY,
    clientKey: CLIENT_KEY,
    deployment: DEPLOYMENT,
    apiVersion: API_VERSION,
    core: PROXY_CORE,
  });
  const oursPort = await freePort();
  const oursChild = await startOurs("ours", [binary], { mockPort: mock.port, port: oursPort, core: PROXY_CORE, dir });
  const floorPort = await freePort();
  const floorChild = await startFloor(floorBinary, { mockPort: mock.port, port: floorPort, core: PROXY_CORE });
  const ctx: Ctx = {
    mode,
    bun,
    binary,
    dir,
    mock,
    direct: directTarget(mock.port),
    nginx: proxiedTarget("nginx", nginxPort, nginxChild.pid, false),
    ours: proxiedTarget("ours", oursPort, oursChild.pid, true),
    floor: proxiedTarget("bun-floor", floorPort, floorChild.pid, false),
    progress,
  };
  await Bun.sleep(1000);
  const idle = { nginx: rssMb(nginxChild.pid), ours: rssMb(oursChild.pid), floor: rssMb(floorChild.pid) };
  if (startup) {
    const s = startupRows(startup, await rssAfterFirstAnswer(ctx.nginx));
    data.startup = startup.ours;
    data.startup_floor = startup.floor;
    data.idle_rss_after_first_answer = s.idle;
    speed.idleRss = s.idle;
    main.push(...s.rows);
  }
  main.push({
    metric: "RSS at rest, before any load (MB)",
    values: { nginx: round(idle.nginx, 1), floor: round(idle.floor, 1), ours: round(idle.ours, 1) },
    note: "nginx = master + worker",
  });

  let quiet = null;
  let quietChild = null;
  if (mode.quietRun && only.has("requests")) {
    const port = await freePort();
    quietChild = await startOurs("ours-quiet", [binary], { mockPort: mock.port, port, core: PROXY_CORE, dir, env: { LOG_LEVEL: "warn" } });
    quiet = proxiedTarget("ours-quiet", port, quietChild.pid, true);
  }
  sections.push({ title: `azure-proxy benchmark (${mode.name}): ours = ${binary}`, columns: MAIN_COLUMNS, ratio: ["ours", "nginx"], rows: main });
  if (only.has("requests")) {
    const requests = await requestPhase(ctx, quiet);
    await quietChild?.stop();
    data.requests = requests.data;
    main.push(...requests.rows);
    Object.assign(speed, requests.speed);
  }
  if (only.has("streams")) {
    const streams = await streamPhase(ctx);
    data.streams = streams.data;
    main.push(...streams.rows);
    Object.assign(speed, streams.speed);
    sections.push(streams.cap);
  }
  if (only.has("aborts")) {
    const aborts = await abortPhase(ctx);
    data.aborts = aborts.data;
    main.push(...aborts.rows);
  }
  if (only.has("slow")) {
    const slow = await slowReaderPhase(ctx);
    data.slow_reader = slow.data;
    main.push(...slow.rows);
  }
  if (only.has("workers")) {
    const workers = await workersPhase(ctx);
    data.workers = workers.data;
    sections.push(workers.section);
    const [tput] = workers.section.rows;
    main.push(
      row(`${tput!.metric}, both cores: --workers 2 vs nginx 2 workers`, undefined, tput!.values.nginx, tput!.values.ours2, {
        target: tput!.target,
        pass: tput!.pass,
      }),
    );
  }
  if (only.has("state")) {
    const state = await statePhase(ctx);
    data.state = state.data;
    sections.push(state.section);
  }
  if (only.has("upload")) {
    progress("25 MB upload through the proxy (simulator upstream)");
    const upload = await measureUploadMemory({ binary, fileMb: 25, core: PROXY_CORE });
    data.upload_memory = upload;
    sections.push({
      title: "25 MB multipart upload, 3 times (spooled to disk past 1 MiB)",
      columns: [["ours", "ours"]],
      rows: [
        { metric: "RSS before (MB)", values: { ours: upload.rss_before_mb } },
        { metric: "RSS peak growth (MB)", values: { ours: upload.peak_growth_mb }, target: "far below 25", pass: upload.peak_growth_mb < 12.5 },
        { metric: "RSS after (MB)", values: { ours: upload.rss_after_mb } },
      ],
    });
  }

  if (only.has("headroom")) {
    progress("headroom on vs off, load beyond one deployment's quota (simulator upstreams)");
    const headroom = await measureHeadroom({ binary, dir, seconds: mode.name === "quick" ? 5 : 10, connections: 16, core: PROXY_CORE });
    data.headroom = headroom;
    sections.push(headroomSection(headroom));
  }

  if (only.has("forms")) {
    progress("25 MB form of tiny parts through the proxy, /healthz asked every 5 ms");
    const forms = await measureTinyPartForm({ command: [binary], formMb: 25, core: PROXY_CORE });
    data.tiny_part_form = forms;
    sections.push({
      title: `25 MB multipart form of ${forms.parts} tiny parts (limits.max_form_parts raised past them; then the default 1000)`,
      columns: [["ours", "ours"]],
      rows: [
        { metric: "scanner alone, 64 KiB reads (ms)", values: { ours: forms.scanner_parse_ms }, target: "< 1000", pass: forms.scanner_parse_ms < 1000 },
        {
          metric: `proxy round trip, read + parse, answer ${forms.proxy_status} (ms)`,
          values: { ours: forms.proxy_round_trip_ms },
          target: "< 1000",
          pass: forms.proxy_round_trip_ms < 1000,
        },
        { metric: "proxy CPU for the form (ms)", values: { ours: forms.proxy_cpu_ms } },
        { metric: "longest /healthz answer meanwhile (ms)", values: { ours: forms.healthz_max_ms }, target: "< 50", pass: forms.healthz_max_ms < 50 },
        { metric: `default limit: refused with ${forms.default_limit_status} after (ms)`, values: { ours: forms.default_limit_round_trip_ms } },
      ],
    });
  }

  const speedTable = speedSection(mode, speed, only);
  sections.push(speedTable);
  const text = sections.map(renderSection).join("\n\n");
  console.log(`\n${text}\n`);
  const load = (await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" ");
  // CPU the machine spent that was not ours: other work on the box while we measured
  const wallMs = performance.now() - cpuAtStart.at;
  const foreign = Math.max(0, machineCpuMs() - cpuAtStart.machine - (ourCpuMs() - cpuAtStart.ours)) / (wallMs * navigator.hardwareConcurrency);
  if (disturbed.length > 0) {
    console.log(
      `warning: other work took over 10% of the machine during: ${disturbed.map((d) => `${d.label} (${Math.round(d.foreign * 100)}%)`).join(", ")}; those rows are skewed`,
    );
  }
  if (foreign > 0.05) {
    console.log(
      `warning: other work used ${(foreign * 100).toFixed(0)}% of the machine during the run (load average now ${load}): absolute figures and p99s are skewed, ratios less so`,
    );
  }
  const missed = main.filter((r) => r.pass === false).map((r) => r.metric);
  console.log(missed.length ? `targets missed: ${missed.join("; ")}` : "all targets met");
  const missed12 = speedTable.rows.filter((r) => r.pass === false).map((r) => r.metric);
  const unmeasured12 = speedTable.rows.filter((r) => r.pass === undefined).length;
  console.log(
    `issue 12: ${missed12.length ? `missed ${missed12.join("; ")}` : "no target missed"}${unmeasured12 ? ` (${unmeasured12} of ${speedTable.rows.length} rows not measured)` : ""}`,
  );

  const meta = {
    date: new Date().toISOString(),
    mode: mode.name,
    binary,
    commit: Bun.spawnSync(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]).stdout.toString().trim(),
    working_tree_dirty: Bun.spawnSync(["git", "-C", ROOT, "status", "--porcelain", "--", "src"]).stdout.toString().trim() !== "",
    bun: Bun.version,
    nginx: Bun.spawnSync(["nginx", "-v"]).stderr.toString().trim(),
    cpu: (await Bun.file("/proc/cpuinfo").text()).match(/model name\s*:\s*(.*)/)?.[1],
    cores: { load_and_upstream: LOAD_CORE, proxy_under_test: PROXY_CORE },
    machine_busy_before: Number(busyBefore.toFixed(2)),
    foreign_cpu_share_during_run: Number(foreign.toFixed(3)),
    disturbed_runs: disturbed,
    load_average_after: load,
    settings: mode,
    seconds: Math.round((performance.now() - started) / 1000),
  };
  mkdirSync(join(ROOT, "bench/results"), { recursive: true });
  const file = join(ROOT, "bench/results", `${meta.date.replace(/[:.]/g, "-")}-${mode.name}.json`);
  writeFileSync(file, JSON.stringify({ meta, issue12: speedJson(speedTable), tables: sections, results: data }, null, 2));
  console.log(`results: ${file} (${meta.seconds} s)`);
  finished = true;
}

try {
  await main();
  await shutdown(0);
} catch (error) {
  // a phase failing because Ctrl-C just stopped its processes is not news
  if (!stopping) console.error(`bench failed: ${(error as Error).stack ?? error}`);
  await shutdown(1);
}
