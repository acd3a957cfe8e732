// The files src/metrics/prom-client.ts imports; their types are the index's (prom-client ships one index.d.ts).
declare module "prom-client/lib/counter.js" {
  const Counter: unknown;
  export default Counter;
}
declare module "prom-client/lib/gauge.js" {
  const Gauge: unknown;
  export default Gauge;
}
declare module "prom-client/lib/histogram.js" {
  const Histogram: unknown;
  export default Histogram;
}
declare module "prom-client/lib/registry.js" {
  const Registry: unknown;
  export default Registry;
}
