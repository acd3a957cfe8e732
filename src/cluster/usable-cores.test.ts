import { expect, test } from "bun:test";
import { cpuQuota, usableCores } from "./usable-cores.ts";

const files = (entries: Record<string, string>) => (path: string) => {
  if (!(path in entries)) throw new Error(`ENOENT: ${path}`);
  return entries[path]!;
};

test("cgroup v2: a quota of 1.5 CPUs on a 64-core affinity means 1 worker; 'max' means the affinity", () => {
  expect(usableCores(64, files({ "/sys/fs/cgroup/cpu.max": "150000 100000\n" }))).toBe(1);
  expect(usableCores(64, files({ "/sys/fs/cgroup/cpu.max": "400000 100000\n" }))).toBe(4);
  expect(usableCores(8, files({ "/sys/fs/cgroup/cpu.max": "max 100000\n" }))).toBe(8);
});

test("a quota above the affinity does not add workers; a tiny quota still gives one", () => {
  expect(usableCores(2, files({ "/sys/fs/cgroup/cpu.max": "800000 100000" }))).toBe(2);
  expect(usableCores(16, files({ "/sys/fs/cgroup/cpu.max": "10000 100000" }))).toBe(1);
});

test("cgroup v1: cfs_quota_us / cfs_period_us, -1 meaning none", () => {
  const v1 = (quota: string) => files({ "/sys/fs/cgroup/cpu/cpu.cfs_quota_us": quota, "/sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n" });
  expect(usableCores(32, v1("200000\n"))).toBe(2);
  expect(usableCores(32, v1("-1\n"))).toBe(32);
});

test("no cgroup files (not Linux, or hidden): the affinity alone", () => {
  expect(cpuQuota(files({}))).toBeNull();
  expect(usableCores(6, files({}))).toBe(6);
});
