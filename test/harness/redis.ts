/**
 * A real redis-server (Debian's package; .ci/install-deploy-deps installs it) on a free port,
 * started and stopped by PID. Its append-only file is synced on every write, so a SIGKILL loses
 * nothing Redis acknowledged, as in a production setup that must not lose usage. `restart` starts a new one on the same port
 * (the proxy's reconnect finds it there).
 */
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface RunningRedis {
  readonly url: string;
  readonly port: number;
  pid(): number;
  /** SIGKILL: as a crash looks to the proxy. */
  kill(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

async function launch(port: number, dir: string) {
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--save",
    "",
    "--appendonly",
    "yes",
    "--appendfsync",
    "always",
    "--protected-mode",
    "no",
  ];
  const proc = Bun.spawn(["redis-server", ...args], { stdout: "pipe", stderr: "pipe" });
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (await answersPing(port)) return proc;
    if (proc.exitCode !== null) break;
    await Bun.sleep(20);
  }
  proc.kill("SIGKILL");
  throw new Error(`redis-server did not start on ${port}`);
}

async function answersPing(port: number): Promise<boolean> {
  try {
    const socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
    socket.end();
    return true;
  } catch {
    return false;
  }
}

export async function startRedis(): Promise<RunningRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "azure-proxy-redis-"));
  let proc = await launch(port, dir);
  return {
    url: `redis://127.0.0.1:${port}/0`,
    port,
    pid: () => proc.pid,
    async kill() {
      proc.kill("SIGKILL");
      await proc.exited;
    },
    async restart() {
      proc = await launch(port, dir);
    },
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}
