/**
 * A small bounded in-memory store for the stateful operations (files, batches, vector stores,
 * fine-tuning jobs, stored responses). The simulator is a test double that may run for a long
 * demo, so every store drops its oldest objects past a count and a byte budget.
 */
export interface StoreLimits {
  maxItems: number;
  /** Budget for `sizeOf` summed over all items (file contents), in bytes. */
  maxBytes?: number;
}

export class BoundedStore<T> {
  private readonly items = new Map<string, T>();
  private bytes = 0;

  constructor(
    private readonly limits: StoreLimits,
    private readonly sizeOf: (item: T) => number = () => 0,
  ) {}

  put(id: string, item: T): T {
    this.delete(id);
    this.items.set(id, item);
    this.bytes += this.sizeOf(item);
    while (this.items.size > 1 && (this.items.size > this.limits.maxItems || this.bytes > (this.limits.maxBytes ?? Infinity))) {
      this.delete(this.items.keys().next().value!);
    }
    return item;
  }

  get(id: string): T | undefined {
    return this.items.get(id);
  }

  delete(id: string): boolean {
    const item = this.items.get(id);
    if (item === undefined) return false;
    this.bytes -= this.sizeOf(item);
    return this.items.delete(id);
  }

  /** Newest first, as OpenAI's list endpoints default to (`order=desc`). */
  list(): T[] {
    return [...this.items.values()].reverse();
  }
}

/** OpenAI's cursor list shape: `limit` (default 20) and `after` (an id) from the query. */
export function listPage<T extends { id: string }>(items: T[], query: URLSearchParams, defaultLimit = 20) {
  const limit = Math.max(1, Math.min(10000, Number(query.get("limit") ?? defaultLimit) || defaultLimit));
  const after = query.get("after");
  const start = after ? items.findIndex((i) => i.id === after) + 1 : 0;
  const data = items.slice(start, start + limit);
  return { object: "list", data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: start + limit < items.length };
}

let counter = 0;
/** OpenAI-looking ids: a prefix and 24 url-safe characters, unique within the process. */
export function newId(prefix: string): string {
  counter = (counter + 1) % 0x10000;
  const random = crypto.randomUUID().replaceAll("-", "").slice(0, 20);
  return `${prefix}${random}${counter.toString(16).padStart(4, "0")}`;
}
