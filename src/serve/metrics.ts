// Server metrics in Prometheus' text exposition format (version 0.0.4), kept by hand: request
// counters by model, endpoint and status, a latency histogram, a batch-size histogram, run
// time, queue depth and images per second over a sliding window.

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];
/** Seconds over which densenet_images_per_second averages. */
const RATE_WINDOW_S = 10;

class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(readonly buckets: readonly number[]) {
    this.counts = buckets.map(() => 0);
  }
  observe(value: number): void {
    this.sum += value;
    this.count++;
    this.buckets.forEach((b, i) => {
      if (value <= b) this.counts[i]++;
    });
  }
}

/** `name="value"` pairs, with Prometheus' escapes (backslash, double quote, newline). */
function labels(pairs: Record<string, string>): string {
  const text = Object.entries(pairs).map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`);
  return text.join(",");
}

export class Metrics {
  private readonly requests = new Map<string, { labels: Record<string, string>; value: number }>();
  private readonly latency = new Map<string, { labels: Record<string, string>; histogram: Histogram }>();
  private readonly batches = new Map<string, Histogram>();
  private readonly runSeconds = new Map<string, Histogram>();
  private readonly images = new Map<string, number>();
  /** (time ms, images) of recent runs, for the images/s window. */
  private recent: [number, number][] = [];
  private readonly started = performance.now();

  /** `queueDepth` and `inFlight` are read when the metrics are rendered. */
  constructor(
    private readonly queueDepth: () => number,
    private readonly inFlight: () => number,
  ) {}

  /**
   * One answered request. `model` is "" where the request named no served model; status 499
   * (nginx's convention) counts a client that closed its connection before the answer.
   */
  request(endpoint: string, model: string, status: number, seconds: number): void {
    const l = { model, endpoint, code: String(status) };
    const key = JSON.stringify(l);
    const counter = this.requests.get(key) ?? { labels: l, value: 0 };
    counter.value++;
    this.requests.set(key, counter);
    const lk = JSON.stringify([model, endpoint]);
    let entry = this.latency.get(lk);
    if (!entry) {
      entry = { labels: { model, endpoint }, histogram: new Histogram(LATENCY_BUCKETS) };
      this.latency.set(lk, entry);
    }
    entry.histogram.observe(seconds);
  }

  /** One Session.run of `images` images that took `seconds`. */
  batch(model: string, images: number, seconds: number): void {
    if (!this.batches.has(model)) {
      this.batches.set(model, new Histogram(BATCH_BUCKETS));
      this.runSeconds.set(model, new Histogram(LATENCY_BUCKETS));
    }
    this.batches.get(model)!.observe(images);
    this.runSeconds.get(model)!.observe(seconds);
    this.images.set(model, (this.images.get(model) ?? 0) + images);
    const now = performance.now();
    this.recent.push([now, images]);
    while (now - this.recent[0][0] > RATE_WINDOW_S * 1000) this.recent.shift();
  }

  /** Images run per second over the last RATE_WINDOW_S seconds (or since start, if shorter). */
  imagesPerSecond(): number {
    const now = performance.now();
    this.recent = this.recent.filter(([t]) => now - t <= RATE_WINDOW_S * 1000);
    const window = Math.min(RATE_WINDOW_S, Math.max((now - this.started) / 1000, 1e-3));
    return this.recent.reduce((n, [, images]) => n + images, 0) / window;
  }

  render(): string {
    const out: string[] = [];
    const header = (name: string, type: string, help: string) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    header(
      "densenet_requests_total",
      "counter",
      "Requests answered, by model, endpoint and HTTP status code (499: the client left first).",
    );
    for (const { labels: l, value } of this.requests.values()) out.push(`densenet_requests_total{${labels(l)}} ${value}`);
    header("densenet_request_errors_total", "counter", "Requests answered with a 4xx or 5xx status, by model and endpoint.");
    const errors = new Map<string, { l: Record<string, string>; n: number }>();
    for (const { labels: l, value } of this.requests.values()) {
      if (Number(l.code) < 400) continue;
      const key = JSON.stringify([l.model, l.endpoint]);
      const e = errors.get(key) ?? { l: { model: l.model, endpoint: l.endpoint }, n: 0 };
      e.n += value;
      errors.set(key, e);
    }
    for (const { l, n } of errors.values()) out.push(`densenet_request_errors_total{${labels(l)}} ${n}`);
    header("densenet_request_duration_seconds", "histogram", "Time from request to response, by model and endpoint.");
    for (const { labels: l, histogram } of this.latency.values()) this.histogram(out, "densenet_request_duration_seconds", l, histogram);
    header("densenet_batch_size", "histogram", "Images per Session.run, by model.");
    for (const [model, h] of this.batches) this.histogram(out, "densenet_batch_size", { model }, h);
    header("densenet_run_duration_seconds", "histogram", "Time of one Session.run (a batch), by model.");
    for (const [model, h] of this.runSeconds) this.histogram(out, "densenet_run_duration_seconds", { model }, h);
    header("densenet_images_total", "counter", "Images run, by model.");
    for (const [model, n] of this.images) out.push(`densenet_images_total{${labels({ model })}} ${n}`);
    header("densenet_images_per_second", "gauge", `Images run per second over the last ${RATE_WINDOW_S} s, all models.`);
    out.push(`densenet_images_per_second ${this.imagesPerSecond()}`);
    header("densenet_queue_depth", "gauge", "Requests waiting to run.");
    out.push(`densenet_queue_depth ${this.queueDepth()}`);
    header("densenet_requests_in_flight", "gauge", "Requests received and not yet answered.");
    out.push(`densenet_requests_in_flight ${this.inFlight()}`);
    return `${out.join("\n")}\n`;
  }

  private histogram(out: string[], name: string, l: Record<string, string>, h: Histogram): void {
    const base = labels(l);
    h.buckets.forEach((b, i) => out.push(`${name}_bucket{${base},le="${b}"} ${h.counts[i]}`));
    out.push(`${name}_bucket{${base},le="+Inf"} ${h.count}`, `${name}_sum{${base}} ${h.sum}`, `${name}_count{${base}} ${h.count}`);
  }
}
