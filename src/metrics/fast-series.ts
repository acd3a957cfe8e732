/**
 * The counters and histograms every request touches, kept as plain numbers per series and
 * handed to prom-client's Registry only when it asks (a scrape, a worker's registry for the
 * primary's sum): the same names, the same `get()` shape and so the same /metrics text as
 * prom-client's own Counter and Histogram (fast-series.test.ts compares them), at a fraction
 * of the cost per call. prom-client's `inc` and `observe` hash the label object, validate every
 * label name and check the value on each call: with five labelled series per request that was
 * 3-5 µs of the request's ~33 µs of JavaScript (bench/request-cost.ts, all metrics calls left
 * out: 27.5-30 µs). Here a call builds one key from the label values in a fixed order and adds
 * to the series it names.
 * The label sets are the callers' (record.ts, attempt.ts, realtime/handshake.ts), bounded as
 * catalog.ts says; values are never a client's free text.
 */
import type { Registry } from "./prom-client.ts";

type LabelValues<T extends string> = Readonly<Partial<Record<T, string | number>>>;

interface Options<T extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly T[];
  readonly registers: readonly Registry[];
}

/** What prom-client's Registry reads from a metric (its `get()` result). */
interface MetricValue {
  readonly labels: Record<string, string | number>;
  readonly value: number;
  readonly metricName?: string;
  readonly exemplar?: null;
}

// a character no label value the proxy writes holds (names, statuses, outcomes)
const SEPARATOR = "\u0000";

abstract class Family<T extends string, S extends { readonly labels: Record<string, string | number> }> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly T[];
  abstract readonly type: "counter" | "histogram";
  readonly aggregator = "sum";
  protected series = new Map<string, S>();

  constructor({ name, help, labelNames, registers }: Options<T>) {
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
    // the Registry takes any metric with a name, a type and get(); its types list only its own classes
    for (const registry of registers) registry.registerMetric(this as unknown as Parameters<Registry["registerMetric"]>[0]);
  }

  protected find(labels: LabelValues<T>): S {
    let key = "";
    for (const name of this.labelNames) key += `${labels[name]}${SEPARATOR}`;
    let found = this.series.get(key);
    if (found === undefined) {
      // a copy: a caller's object may change after; prom-client's own order of keys is the caller's
      const own: Record<string, string | number> = {};
      for (const name of Object.keys(labels) as T[]) {
        const value = labels[name];
        if (value === undefined) continue;
        if (!this.labelNames.includes(name)) throw new Error(`Added label "${name}" is not included in initial labelset: ${this.labelNames.join(", ")}`);
        own[name] = value;
      }
      found = this.create(own);
      this.series.set(key, found);
    }
    return found;
  }

  protected abstract create(labels: Record<string, string | number>): S;

  protected abstract values(): MetricValue[];

  async get() {
    return { name: this.name, help: this.help, type: this.type, values: this.values(), aggregator: this.aggregator };
  }

  reset(): void {
    this.series = new Map();
  }
}

interface CounterSeries {
  readonly labels: Record<string, string | number>;
  value: number;
}

export class FastCounter<T extends string = string> extends Family<T, CounterSeries> {
  readonly type = "counter";

  inc(labels: LabelValues<T>, value = 1): void {
    // as prom-client's: a negative or infinite count throws; unlike it, so does NaN, which
    // prom-client adds and which then poisons the series for good
    if (value < 0) throw new Error("It is not possible to decrease a counter");
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    this.find(labels).value += value;
  }

  protected create(labels: Record<string, string | number>): CounterSeries {
    return { labels, value: 0 };
  }

  protected values(): MetricValue[] {
    return [...this.series.values()].map(({ labels, value }) => ({ value, labels }));
  }
}

interface HistogramSeries {
  readonly labels: Record<string, string | number>;
  /** Per bucket, not cumulative: the observations at most its bound and above the one before. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

export class FastHistogram<T extends string = string> extends Family<T, HistogramSeries> {
  readonly type = "histogram";
  private readonly bounds: readonly number[];

  constructor(options: Options<T> & { readonly buckets: readonly number[] }) {
    super(options);
    this.bounds = [...options.buckets].sort((a, b) => a - b);
  }

  observe(labels: LabelValues<T>, value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    const series = this.find(labels);
    series.sum += value;
    series.count++;
    const { bounds } = this;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        series.counts[i]!++;
        return;
      }
    }
  }

  protected create(labels: Record<string, string | number>): HistogramSeries {
    return { labels, counts: new Float64Array(this.bounds.length), sum: 0, count: 0 };
  }

  /** prom-client's Histogram.get(): each series' cumulative buckets, `le` first, then +Inf, sum and count. */
  protected values(): MetricValue[] {
    const out: MetricValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const { labels, counts, sum, count } of this.series.values()) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += counts[i]!;
        out.push({ value: cumulative, metricName: bucket, exemplar: null, labels: { le, ...labels } });
      });
      out.push({ value: count, metricName: bucket, exemplar: null, labels: { le: "+Inf", ...labels } });
      out.push({ value: sum, metricName: `${this.name}_sum`, exemplar: undefined, labels: { ...labels } });
      out.push({ value: count, metricName: `${this.name}_count`, exemplar: undefined, labels: { ...labels } });
    }
    return out;
  }
}
