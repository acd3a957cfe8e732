/** A worker as the primary's shared state sees it (shared-state.ts, status-sum.ts). */
import type { Link } from "./link.ts";
import type { ToPrimary, ToWorker } from "./messages.ts";

export interface Peer {
  readonly index: number;
  readonly link: Link<ToWorker, ToPrimary>;
  /** It listens for messages (so it can be told of cooldowns). */
  readonly greeted: boolean;
  /** It serves (so it has metrics). */
  readonly started: boolean;
}
