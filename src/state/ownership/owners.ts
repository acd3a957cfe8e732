/**
 * Who created which object (a file, batch, vector store, fine-tuning job or stored response):
 * the client key's name, kept where the rest of the state is (SQLite file, or Redis). The first
 * claim of an id wins. An id with no owner was made before ownership was kept: admin keys only.
 */
export interface Owners {
  /** The owners of those of `ids` that have one. */
  ownersOf(ids: readonly string[]): Promise<Map<string, string>>;
  claim(id: string, key: string): Promise<void>;
}
