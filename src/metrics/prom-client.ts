/**
 * prom-client's metric classes, taken from their own files instead of the package's index: the
 * index also loads its Pushgateway (node:http, node:https, node:zlib), the default process
 * metrics (perf_hooks) and the Summary's digest, none of which the proxy uses, and in a compiled
 * Bun binary those cost ~2 MB of idle RSS (README.md, Performance). Same classes, same behaviour.
 */
import type * as Prom from "prom-client";
import CounterClass from "prom-client/lib/counter.js";
import GaugeClass from "prom-client/lib/gauge.js";
import HistogramClass from "prom-client/lib/histogram.js";
import RegistryClass from "prom-client/lib/registry.js";

export const Counter = CounterClass as typeof Prom.Counter;
export const Gauge = GaugeClass as typeof Prom.Gauge;
export const Histogram = HistogramClass as typeof Prom.Histogram;
export const Registry = RegistryClass as typeof Prom.Registry;
export type Counter<T extends string = string> = Prom.Counter<T>;
export type Gauge<T extends string = string> = Prom.Gauge<T>;
export type Histogram<T extends string = string> = Prom.Histogram<T>;
export type Registry = Prom.Registry;
