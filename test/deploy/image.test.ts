/**
 * The container image. No registry is reachable where this runs, so the Dockerfile's base images
 * cannot be pulled; scripts/build-image.sh builds its final stage with buildah from a binary
 * built from this tree, starts it, and talks to it. This test runs that script, then checks
 * that the image it saved says what the Dockerfile says (user, entrypoint, command, env, port,
 * healthcheck), so the two cannot drift apart unnoticed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { buildBinary, requireTool, ROOT } from "./tools.ts";

const dockerfile = readFileSync(resolve(ROOT, "Dockerfile"), "utf8");
let built: { dir: string; binary: string };
let run: { code: number | null; out: string };
let config: { User?: string; Env?: string[]; ExposedPorts?: Record<string, unknown>; Entrypoint?: string[]; Cmd?: string[]; Healthcheck?: { Test?: string[] } };

function tarEntry(archive: string, name: string): string {
  const out = Bun.spawnSync(["tar", "-xOf", archive, name]);
  if (out.exitCode !== 0) throw new Error(`tar -xOf ${archive} ${name}: ${out.stderr.toString()}`);
  return out.stdout.toString();
}

beforeAll(async () => {
  for (const [tool, pkg] of [
    ["/usr/bin/buildah", "buildah"],
    ["/usr/bin/ldd", "libc-bin"],
    ["/usr/bin/curl", "curl"],
    ["/usr/bin/ss", "iproute2"],
  ] as const) {
    requireTool(tool, pkg);
  }
  if (process.getuid?.() !== 0) throw new Error("scripts/build-image.sh needs root (buildah with chroot isolation); run the deploy tests as root");
  built = buildBinary("azure-proxy-image-");
  const archive = join(built.dir, "image.tar");
  const proc = Bun.spawn(["bash", resolve(ROOT, "scripts/build-image.sh"), "--binary", built.binary, "--save", archive], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
  });
  // The script cleans up its containers on SIGTERM; stop it well inside the hook's timeout.
  const timer = setTimeout(() => proc.kill("SIGTERM"), 150_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  run = { code, out: `${stdout}${stderr}` };
  if (code === 0) {
    const manifest = JSON.parse(tarEntry(archive, "manifest.json")) as Array<{ Config: string }>;
    config = JSON.parse(tarEntry(archive, manifest[0]!.Config)).config;
  }
}, 180_000);

afterAll(() => {
  if (built) rmSync(built.dir, { recursive: true, force: true });
});

/** The final stage's instruction, its arguments as one string (last one wins, as in Docker). */
function finalStage(instruction: string): string | undefined {
  const stages = dockerfile.split(/^FROM /m);
  const last = stages.at(-1)!;
  const lines = [...last.matchAll(new RegExp(`^${instruction} (.+)$`, "gm"))];
  return lines.at(-1)?.[1]?.trim();
}

describe("scripts/build-image.sh", () => {
  test("builds the image, which starts, passes its healthcheck and answers chats as uid 65532", () => {
    if (run.code !== 0) throw new Error(`build-image.sh exited ${run.code}:\n${run.out}`);
    expect(run.out).toContain("healthcheck inside the container: ok");
    expect(run.out).toContain("runs as uid 65532");
    expect(run.out).toContain("chat from the host: 200 chat.completion");
    expect(run.out).toContain("streamed chat from the host: events through [DONE]");
    expect(run.out).toContain("wrong client key: 401");
  });

  test("reports the image size", () => {
    const size = /image size: ([\d.]+) MB/.exec(run.out);
    expect(size).not.toBeNull();
    const mb = Number(size![1]);
    // The binary alone is ~110 MB; much more means something besides it and glibc got in.
    expect(mb).toBeGreaterThan(20);
    expect(mb).toBeLessThan(200);
    console.log(size![0]);
  });

  test("leaves no containers or processes behind", () => {
    const leftovers = Bun.spawnSync(["ps", "-eo", "args"])
      .stdout.toString()
      .split("\n")
      .filter((l) => l.includes(built.binary) || /buildah .*azure-proxy-image\./.test(l));
    expect(leftovers).toEqual([]);
  });
});

describe("the image agrees with the Dockerfile", () => {
  test("the Dockerfile is multi-stage: npm ci and npm run build, then only the binary on distroless/cc", () => {
    const froms = [...dockerfile.matchAll(/^FROM (\S+)(?: AS (\S+))?/gm)];
    expect(froms.length).toBe(2);
    expect(froms[0]![2]).toBe("build");
    expect(dockerfile).toMatch(/^RUN npm ci\b/m);
    expect(dockerfile).toMatch(/^RUN npm run build\b/m);
    expect(froms[1]![1]).toBe("gcr.io/distroless/cc-debian12:nonroot");
    expect(finalStage("COPY")).toBe("--from=build /src/dist/azure-proxy /azure-proxy");
  });

  test("user, entrypoint, command, env, port and healthcheck match", () => {
    expect(config).toBeDefined();
    expect(config.User).toBe(finalStage("USER"));
    expect(config.Entrypoint).toEqual(JSON.parse(finalStage("ENTRYPOINT")!));
    expect(config.Cmd).toEqual(JSON.parse(finalStage("CMD")!));
    for (const pair of finalStage("ENV")!.split(/\s+/)) expect(config.Env).toContain(pair);
    expect(Object.keys(config.ExposedPorts ?? {})).toEqual([`${finalStage("EXPOSE")}/tcp`]);
    const healthcheck = /CMD (\[.*\])$/.exec(finalStage("HEALTHCHECK")!)![1]!;
    expect(config.Healthcheck?.Test).toEqual(["CMD", ...JSON.parse(healthcheck)]);
  });
});
