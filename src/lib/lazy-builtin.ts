/**
 * A `node:` module loaded when first used. A static `import … from "node:net"` is hoisted to the
 * start of the compiled binary (scripts/build.ts bundles one file, and Bun keeps every `node:`
 * import static even behind `await import()`), so a feature that is off still pays for loading
 * it; Bun's `node:` modules are JavaScript built at load, a few MB of idle RSS each
 * (README.md, Performance). `process.getBuiltinModule` is Node's, and Bun's and Deno's too.
 */
export function lazyBuiltin<T>(name: `node:${string}`): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= process.getBuiltinModule(name) as T);
}
