/** Config files for tests: written to a temp dir, rewritten in place for reload tests. */
import { mkdtempSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function configFile(content: unknown, name = "azure-proxy.json"): { path: string; write(next: unknown): void } {
  const dir = mkdtempSync(join(tmpdir(), "azure-proxy-test-"));
  const path = join(dir, name);
  const write = (next: unknown) => {
    // write-and-rename, as editors and config management do, so a reader never sees half a file
    const temp = `${path}.tmp`;
    writeFileSync(temp, typeof next === "string" ? next : JSON.stringify(next, null, 2));
    renameSync(temp, path);
  };
  write(content);
  return { path, write };
}
