/**
 * How many workers `auto` means: the cores this process may run on (its CPU affinity, which
 * `docker run --cpuset-cpus` and taskset set), capped by a cgroup CPU quota (`docker run --cpus`,
 * a Kubernetes CPU limit), which the affinity does not show: a pod limited to one CPU on a
 * 64-core node must not start 64 workers of ~60 MB each. The quota is read from the process's
 * own cgroup root, as containers see it (cgroup v2 `cpu.max`, else v1 `cfs_quota_us`), and
 * rounded down, at least 1.
 */
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";

export type ReadText = (path: string) => string;

const readText: ReadText = (path) => readFileSync(path, "utf8");

export function usableCores(affinity = availableParallelism(), read: ReadText = readText): number {
  const quota = cpuQuota(read);
  return quota === null ? affinity : Math.max(1, Math.min(affinity, Math.floor(quota)));
}

/** CPUs the cgroup may use per period, or null when unlimited or unknown. */
export function cpuQuota(read: ReadText): number | null {
  const v2 = attempt(() => read("/sys/fs/cgroup/cpu.max").trim().split(/\s+/));
  if (v2) {
    const [quota, period] = v2;
    return quota === "max" ? null : ratio(Number(quota), Number(period));
  }
  const quota = attempt(() => Number(read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")));
  const period = attempt(() => Number(read("/sys/fs/cgroup/cpu/cpu.cfs_period_us")));
  return quota === null || period === null ? null : ratio(quota, period);
}

function ratio(quota: number, period: number): number | null {
  return Number.isFinite(quota) && Number.isFinite(period) && quota > 0 && period > 0 ? quota / period : null;
}

function attempt<T>(fn: () => T): T | null {
  try {
    return fn();
  } catch {
    return null;
  }
}
