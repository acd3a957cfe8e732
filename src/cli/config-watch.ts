/**
 * Noticing that the config file changed. The directory is watched, not the file: editors save
 * by writing a new file and renaming it over the old one, which ends a watch on the file
 * itself. And a Kubernetes ConfigMap volume changes no file by the watched name at all: the name
 * is a symlink into `..data`, itself a symlink that the kubelet swaps atomically to a new
 * timestamped directory (`..data_tmp` renamed over `..data`), so the events carry other names.
 * So any event in the directory makes us look at what the path now resolves to (the real path,
 * inode, size and mtime), and only a change there is a reload; a burst of events (write,
 * rename, chmod) becomes one look.
 */
import { realpathSync, statSync, watch } from "node:fs";
import { dirname } from "node:path";

const SETTLE_MS = 200;

/** Identity of what `file` resolves to now, or null when it is not there (mid-swap). */
function identity(file: string): string | null {
  try {
    const stat = statSync(file);
    return `${realpathSync(file)}:${stat.ino}:${stat.size}:${stat.mtimeMs}`;
  } catch {
    return null;
  }
}

/** Calls `onChange` after the file at `path` changed; returns the stop function. Throws when the directory cannot be watched. */
export function watchConfigFile(path: string, onChange: () => void): () => void {
  let seen = identity(path);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const look = () => {
    const now = identity(path);
    if (now === null || now === seen) return;
    seen = now;
    onChange();
  };
  const watcher = watch(dirname(path), () => {
    clearTimeout(timer);
    timer = setTimeout(look, SETTLE_MS);
  });
  return () => {
    clearTimeout(timer);
    watcher.close();
  };
}
