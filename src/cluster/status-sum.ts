/**
 * GET /admin/status with `serve --workers N`: the primary asks every serving worker for its
 * status part (one typed message, "status-part", answered with a StatusPart) and adds them up,
 * at most once a second however many pages poll, as /metrics is summed (shared-state.ts). A
 * worker that does not answer in time is left out of the sum (and of its `workers` count).
 */
import { sumParts, type StatusPart } from "../status/status-part.ts";
import type { Peer } from "./peer.ts";

const ASK_TIMEOUT_MS = 2000;
const MAX_AGE_MS = 1000;

export class StatusSum {
  private summed: { readonly at: number; readonly part: Promise<StatusPart> } | undefined;

  constructor(private readonly peers: () => Iterable<Peer>) {}

  get(): Promise<StatusPart> {
    const now = Date.now();
    if (this.summed && now - this.summed.at < MAX_AGE_MS) return this.summed.part;
    const part = this.sum();
    const summed = { at: now, part };
    this.summed = summed;
    part.catch(() => {
      if (this.summed === summed) this.summed = undefined;
    });
    return part;
  }

  private async sum(): Promise<StatusPart> {
    const serving = [...this.peers()].filter((p) => p.started);
    const each = await Promise.allSettled(serving.map((p) => p.link.request<StatusPart>({ t: "status-part" }, ASK_TIMEOUT_MS)));
    return sumParts(each.flatMap((r) => (r.status === "fulfilled" ? [r.value] : [])));
  }
}
