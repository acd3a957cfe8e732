/**
 * When the running config was loaded and how the last reload went, for the status page: a
 * reload that failed keeps the old config running (cli/serve.ts) and is otherwise seen only in
 * the log. Runtime state: it outlives the reloads it describes.
 */
export interface ReloadOutcome {
  /** Epoch ms. */
  readonly at: number;
  readonly ok: boolean;
  /** What was wrong with the file (the config check's messages), when it failed. */
  readonly issues?: readonly string[];
}

export class ConfigHistory {
  loadedAt: number;
  lastReload: ReloadOutcome | null = null;

  constructor(private readonly clock: () => number = Date.now) {
    this.loadedAt = clock();
  }

  loaded(): void {
    this.loadedAt = this.clock();
    this.lastReload = { at: this.loadedAt, ok: true };
  }

  failed(issues: readonly string[]): void {
    this.lastReload = { at: this.clock(), ok: false, issues };
  }
}
