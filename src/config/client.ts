/** A client key as the request path uses it, built from keys[] (proxy/clients.ts). */
import type { BudgetConfig } from "./schema.ts";

/** Who is calling: the key's name (never the key) and what it may use. */
export interface Client {
  readonly name: string;
  /** Models this key may use; null: all. */
  readonly models: ReadonlySet<string> | null;
  readonly limits: { readonly rpm?: number; readonly tpm?: number; readonly maxStreams?: number };
  /** Spend limits (keys[].budget); absent: none, and the state layer is never asked. */
  readonly budget?: BudgetConfig;
  /** May read /admin/*. */
  readonly admin: boolean;
}
