/**
 * limits.max_spool_bytes bounds the bodies the whole proxy holds, but each worker process reads
 * its own requests and cannot see its siblings' spools: each gets an equal share, so together
 * they stay within the bound. A share never falls below one largest body (limits.max_body_bytes),
 * or a worker could refuse every full-size upload; the README says so.
 */
import type { Config } from "../config/schema.ts";
import { usableCores } from "./usable-cores.ts";

export function withSpoolShare(config: Config): Config {
  const workers = config.server.workers === "auto" ? usableCores() : config.server.workers;
  const { max_spool_bytes, max_body_bytes } = config.limits;
  const share = Math.max(Math.floor(max_spool_bytes / workers), Math.min(max_body_bytes, max_spool_bytes));
  return { ...config, limits: { ...config.limits, max_spool_bytes: share } };
}
