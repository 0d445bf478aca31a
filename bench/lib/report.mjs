// What bench/suite.mjs makes of its result object: the console table (also bench/results/suite.txt),
// the SVG chart (bench/results/suite.svg, hand-written, no dependency) and README.md's
// performance section (between <!-- bench:start --> and <!-- bench:end -->).
//
// A result row (suite.json "rows"): { model, batch, threads, threads_effective, threads_label,
// runtime, runtime_label, status: "ok" | "missing" | "failed", reason, ms_per_image,
// p95_ms_per_image, images_per_s, gflop_per_s, ratio, peak_rss_mb, cold_start_s, agreement }.

import { RUNTIMES, OURS, runtimeById } from "./runtimes.mjs";

/** Why a runtime ran on fewer threads than asked (tfjs-backend-wasm in Node). */
const threadsNote = (info) =>
  info.runtime === "tfjs"
    ? `${info.threads_note} (tfjs-backend-wasm ${info.backend_version ?? ""} turns its threaded build off under Node)`.replace(" ) ", " ")
    : info.threads_note;
const fmt = (x, d = 1) => (x == null || !Number.isFinite(x) ? "-" : x.toFixed(d));
const fmtTol = (x) => (x >= 0.01 ? String(x) : x.toExponential(0));
const fmtE = (x) => (x == null ? "-" : x === 0 ? "0" : x.toExponential(1));

/** "1.2e-7 (vs PyTorch)", "MISMATCH 3.1e-2", "reference", "-". */
export function agreementText(a) {
  if (!a) return "-";
  if (a.reference) return "reference";
  if (a.error) return `ERROR ${a.error}`;
  const v = fmtE(a.rel_err) + (a.vs !== OURS ? ` vs ${a.vs}` : "");
  return a.ok ? v : `MISMATCH ${v}`;
}

/** Label of a runtime with its version and backend, e.g. "onnxruntime-web 1.30.0 (WASM SIMD, threads)". */
export function runtimeLabel(result, id) {
  const info = result.runtimes[id];
  if (!info?.version) return id;
  return `${id} ${info.version}${info.backend ? ` (${info.backend})` : ""}`;
}

function machineLine(r) {
  const m = r.machine;
  return (
    `${m.cpu_model}, ${m.cpu_count} logical cores (os.availableParallelism() ${m.available_parallelism}), ` +
    `${m.total_mem_gb} GB, Node ${m.node}, ${m.platform}`
  );
}

function canaryLine(r) {
  const c = r.canary;
  const rounds = c.rounds.map((x) => x.ratio.toFixed(2)).join(", ");
  return (
    `canary (2-thread/1-thread throughput of a compute loop, ~2.0 = two free cores): ` +
    `${c.start.ratio.toFixed(2)} at start, ${rounds} before each round, ${c.end != null ? c.end.toFixed(2) : "-"} at the end`
  );
}

// ------------------------------------------------------------------ console table

/** @type {[string, 'l' | 'r', (row: any) => string][]} */
const COLUMNS = [
  ["model", "l", (r) => r.model],
  ["batch", "r", (r) => String(r.batch)],
  ["threads", "l", (r) => r.threads_label],
  ["runtime", "l", (r) => (r.status === "ok" ? r.runtime_label : `${r.runtime}: ${r.status}: ${r.reason}`)],
  ["ms/img", "r", (r) => fmt(r.ms_per_image)],
  ["p95", "r", (r) => fmt(r.p95_ms_per_image)],
  ["img/s", "r", (r) => fmt(r.images_per_s, 2)],
  ["GFLOP/s", "r", (r) => fmt(r.gflop_per_s)],
  ["ratio", "r", (r) => (r.ratio == null ? "-" : fmt(r.ratio, 2))],
  ["RSS MB", "r", (r) => fmt(r.peak_rss_mb, 0)],
  ["cold s", "r", (r) => (r.batch === 1 ? fmt(r.cold_start_s, 2) : "")],
  ["max|diff|/max|ref|", "l", (r) => (r.status === "ok" ? agreementText(r.agreement) : "")],
];

/** The results table as text lines (rows grouped by model, batch, threads). */
export function tableLines(result) {
  const cells = result.rows.map((r) => COLUMNS.map((c) => c[2](r)));
  const widths = COLUMNS.map((c, i) => Math.max(c[0].length, ...cells.map((row) => (i === 3 && row[i].length > 44 ? 0 : row[i].length))));
  const line = (row) =>
    row
      .map((s, i) => (COLUMNS[i][1] === "r" ? s.padStart(widths[i]) : s.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  const out = [line(COLUMNS.map((c) => c[0])), line(widths.map((w) => "-".repeat(w)))];
  let group = null;
  result.rows.forEach((r, i) => {
    const g = `${r.model}/${r.batch}/${r.threads}`;
    if (group !== null && g !== group) out.push("");
    group = g;
    out.push(line(cells[i]));
  });
  return out;
}

/**
 * The speed issue's target rows (DenseNet-121 at 224², ratios of this run): each as
 * { measure, value, target, met, detail }, or [] when the run lacks DenseNet-121.
 */
export function targetRows(result) {
  const find = (b, t, id) =>
    result.rows.find((r) => r.model === "densenet121" && r.batch === b && r.threads === t && r.runtime === id && r.status === "ok");
  const vs = (b, t, peer) => {
    const ours = find(b, t, OURS),
      other = find(b, t, peer);
    return ours && other
      ? { value: ours.ms_per_image / other.ms_per_image, detail: `${fmt(ours.ms_per_image)} / ${fmt(other.ms_per_image)} ms` }
      : null;
  };
  /** @type {{ measure: string, v: { value: number, detail: string } | null, target: number }[]} */
  const rows = [
    { measure: "batch 1, 1 thread: ours / onnxruntime-node", v: vs(1, 1, "onnxruntime-node"), target: 2.0 },
    { measure: "batch 1, 2 threads: ours / onnxruntime-node", v: vs(1, 2, "onnxruntime-node"), target: 1.6 },
    { measure: "batch 8, 2 threads, per image: ours / onnxruntime-node", v: vs(8, 2, "onnxruntime-node"), target: 1.6 },
    { measure: "batch 1, 1 thread: ours / onnxruntime-web", v: vs(1, 1, "onnxruntime-web"), target: 0.33 },
  ];
  const f = result.footprint;
  if (f) {
    rows.push({
      measure: "cold start, `densenet run` / onnxruntime-node's script",
      v: {
        value: f.cold_start_s.ours / f.cold_start_s.peer,
        detail: `${f.cold_start_s.ours.toFixed(2)} / ${f.cold_start_s.peer.toFixed(2)} s`,
      },
      target: 1.0,
    });
    rows.push({
      measure: "peak RSS, `densenet run`, batch 1, 1 thread (MB)",
      v: { value: f.peak_rss_mb.ours, detail: `onnxruntime-node ${fmt(f.peak_rss_mb.peer, 0)} MB` },
      target: 110,
    });
  }
  return rows.flatMap(({ measure, v, target }) =>
    v ? [{ measure, value: v.value, target, met: v.value <= target, detail: v.detail }] : [],
  );
}

/** The target rows as markdown table lines (empty when there are none). */
export function targetTable(result) {
  const rows = targetRows(result);
  if (!rows.length) return [];
  const num = (r) => (r.target >= 10 ? fmt(r.value, 0) : `${fmt(r.value, 2)}×`);
  return [
    "| measure (DenseNet-121 224², this run) | now | target | met | from |",
    "|---|---|---|---|---|",
    ...rows.map(
      (r) => `| ${r.measure} | ${num(r)} | ≤ ${r.target >= 10 ? r.target : `${r.target}×`} | ${r.met ? "yes" : "**no**"} | ${r.detail} |`,
    ),
  ];
}

/** The whole text report: machine, canary, configuration, table, notes. */
export function textReport(result) {
  const c = result.config;
  const lines = [
    `densenet-wasm benchmark suite, ${result.date}`,
    `machine: ${machineLine(result)}`,
    canaryLine(result),
    `suite: ${c.models.join(", ")} at ${c.size}x${c.size}; batch ${c.batches.join(", ")}; threads ${c.threads.join(", ")}; ` +
      `best of ${c.rounds} round(s); Benchmark.js samples per case and round: ` +
      c.batches
        .map((b) => `batch ${b} >= ${c.timing[b].min_samples} runs / ${c.timing[b].max_time_s} s after ${c.timing[b].warmup + 1} untimed`)
        .join(", ") +
      `; took ${(result.duration_s / 60).toFixed(1)} min`,
    "",
    ...tableLines(result),
    ...(targetRows(result).length ? ["", "targets of the speed issue (ratios of this run):", ...targetTable(result)] : []),
    "",
    "ms/img and p95: median and 95th percentile of one run's time / batch (the best round's Benchmark.js sample); " +
      "img/s and GFLOP/s from the median; GFLOP = 2 x conv+linear MACs.",
    "ratio: runtime ms / densenet-wasm ms at the same model, batch and threads (> 1: densenet-wasm is faster).",
    "RSS MB: peak resident set (VmHWM) of the runtime's own process after that batch; cold s: process spawn -> first logits (batch 1), best round.",
    `max|diff|/max|ref|: against densenet-wasm's logits on the same input (densenet-wasm ${result.config.threads[0]}-thread: ` +
      `against PyTorch's at batch 1); must be <= ${fmtTol(result.config.tol)}.`,
  ];
  for (const [id, info] of Object.entries(result.runtimes)) {
    if (info.threads_note)
      lines.push(`${id}: ${threadsNote(info)}: every ${id} row ran on ${info.threads_effective} thread, whatever was asked.`);
    if (info.status !== "ok") lines.push(`${id}: ${info.status.toUpperCase()}: ${info.reason}`);
  }
  if (!result.agreement.ok)
    lines.push("", `NUMERICAL AGREEMENT FAILED on ${result.agreement.failures.length} row(s): ${result.agreement.failures.join("; ")}`);
  return `${lines.join("\n")}\n`;
}

// ------------------------------------------------------------------ SVG chart

const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** 1, 2, 5 x 10^k tick step giving about `n` ticks up to `max`. */
function niceStep(max, n = 5) {
  const raw = max / n;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (raw <= m * p) return m * p;
  return 10 * p;
}

/**
 * Grouped bars of ms per image: one panel per (batch, threads) setting, models along x, one bar
 * per runtime; a missing runtime gets an "n/a" where its bar would be.
 */
export function svgChart(result, { jsonPath = "suite.json" } = {}) {
  const { models, batches, threads } = result.config;
  const runtimes = result.config.runtimes;
  const panels = [];
  for (const b of batches) for (const t of threads) panels.push({ batch: b, threads: t });
  const cols = Math.min(2, panels.length);
  const rowsN = Math.ceil(panels.length / cols);
  const PW = 520,
    PH = 300,
    LEFT = 20,
    GAP = 16,
    FOOT = 62;
  const W = LEFT * 2 + cols * PW + (cols - 1) * GAP;
  // legend: centred rows of colour swatch + label (about 6.3 px per character at 11.5 px)
  const legend = runtimes.map((id) => ({ text: runtimeLabel(result, id), color: runtimeById(id).color }));
  const legendRows = [[]];
  let rowW = 0;
  for (const l of legend) {
    const w = 22 + l.text.length * 6.3;
    if (rowW + w > W - 40 && legendRows.at(-1).length) {
      legendRows.push([]);
      rowW = 0;
    }
    legendRows.at(-1).push({ ...l, w });
    rowW += w + 18;
  }
  const TOP = 84 + legendRows.length * 20;
  const H = TOP + rowsN * PH + (rowsN - 1) * GAP + FOOT;
  const o = [];
  o.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">`,
  );
  o.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  o.push(
    `<text x="${W / 2}" y="26" text-anchor="middle" font-size="18" font-weight="bold">DenseNet inference at ${result.config.size}×${result.config.size}: milliseconds per image (lower is better)</text>`,
  );
  o.push(
    `<text x="${W / 2}" y="46" text-anchor="middle" font-size="12" fill="#444">${esc(`${result.machine.cpu_model}, ${result.machine.cpu_count} cores, Node ${result.machine.node}, ${result.date.slice(0, 16).replace("T", " ")} UTC; canary ${result.canary.start.ratio.toFixed(2)} (≈2 = two free cores)`)}</text>`,
  );
  // legend
  legendRows.forEach((row, ri) => {
    let lx = (W - row.reduce((a, l) => a + l.w + 18, -18)) / 2;
    const ly = 62 + ri * 20;
    for (const l of row) {
      o.push(`<rect x="${lx.toFixed(1)}" y="${ly}" width="14" height="14" fill="${l.color}"/>`);
      o.push(`<text x="${(lx + 19).toFixed(1)}" y="${ly + 12}" font-size="11.5">${esc(l.text)}</text>`);
      lx += l.w + 18;
    }
  });

  // one scale for every panel, so that bars compare across batch sizes and thread counts
  const max = Math.max(1, ...result.rows.filter((r) => r.status === "ok").map((r) => r.ms_per_image));
  const step = niceStep(max * 1.08);
  const top = Math.ceil((max * 1.08) / step) * step;
  panels.forEach((p, pi) => {
    const px = LEFT + (pi % cols) * (PW + GAP);
    const py = TOP + Math.floor(pi / cols) * (PH + GAP);
    const rows = result.rows.filter((r) => r.batch === p.batch && r.threads === p.threads);
    const ax = { x: px + 56, y: py + 34, w: PW - 68, h: PH - 78 };
    const y = (v) => ax.y + ax.h - (v / top) * ax.h;
    o.push(`<rect x="${px}" y="${py}" width="${PW}" height="${PH}" fill="#fafafa" stroke="#ddd"/>`);
    const tl = p.threads === 1 ? "1 thread" : `${p.threads} threads (all cores)`;
    o.push(`<text x="${px + PW / 2}" y="${py + 20}" text-anchor="middle" font-size="14" font-weight="bold">batch ${p.batch}, ${tl}</text>`);
    for (let v = 0; v <= top + 1e-9; v += step) {
      const yy = y(v).toFixed(1);
      o.push(`<line x1="${ax.x}" y1="${yy}" x2="${ax.x + ax.w}" y2="${yy}" stroke="${v === 0 ? "#333" : "#e3e3e3"}"/>`);
      o.push(`<text x="${ax.x - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" font-size="10.5" fill="#333">${+v.toFixed(3)}</text>`);
    }
    o.push(
      `<text transform="translate(${px + 15},${ax.y + ax.h / 2}) rotate(-90)" text-anchor="middle" font-size="11" fill="#333">ms per image</text>`,
    );
    const gw = ax.w / models.length;
    const bw = Math.min(26, (gw * 0.84) / runtimes.length);
    models.forEach((m, mi) => {
      const gx = ax.x + mi * gw + (gw - bw * runtimes.length) / 2;
      o.push(
        `<text x="${(ax.x + mi * gw + gw / 2).toFixed(1)}" y="${ax.y + ax.h + 18}" text-anchor="middle" font-size="12">${esc(m)}</text>`,
      );
      runtimes.forEach((id, ri) => {
        const r = rows.find((x) => x.model === m && x.runtime === id);
        const bx = gx + ri * bw;
        if (r?.status !== "ok") {
          o.push(`<text x="${(bx + bw / 2).toFixed(1)}" y="${ax.y + ax.h - 4}" text-anchor="middle" font-size="9" fill="#999">n/a</text>`);
          return;
        }
        const yy = y(r.ms_per_image);
        const star = r.threads_effective !== r.threads ? "*" : "";
        o.push(
          `<rect x="${(bx + 1).toFixed(1)}" y="${yy.toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${(ax.y + ax.h - yy).toFixed(1)}" fill="${runtimeById(id).color}"><title>${esc(`${id}, ${m}, batch ${r.batch}, threads ${r.threads_label}: ${fmt(r.ms_per_image)} ms/image`)}</title></rect>`,
        );
        const label = r.ms_per_image >= 100 ? r.ms_per_image.toFixed(0) : r.ms_per_image.toFixed(1);
        o.push(
          `<text x="${(bx + bw / 2).toFixed(1)}" y="${(yy - 3).toFixed(1)}" text-anchor="middle" font-size="8.5" fill="#222">${label}${star}</text>`,
        );
      });
    });
  });
  const notes = [];
  for (const [id, info] of Object.entries(result.runtimes)) {
    if (info.threads_note) notes.push(`* ${id}: ${threadsNote(info)}; its bars are ${info.threads_effective}-thread runs in every panel.`);
    if (info.status !== "ok") notes.push(`${id}: ${info.status}: ${info.reason}`);
  }
  const a = result.agreement;
  notes.push(
    a.ok
      ? `Same seeded random weights and inputs for every runtime; every output agreed with densenet-wasm's to max|diff| ≤ ${fmtTol(result.config.tol)}·max|ref|${a.worst_peer ? ` (worst ${fmtE(a.worst_peer.rel_err)})` : ""}.`
      : `OUTPUTS DID NOT AGREE on ${a.failures.length} row(s): see suite.txt.`,
  );
  notes.push(
    `Each runtime in its own process; medians of Benchmark.js samples, best of ${result.config.rounds} rounds. Data: ${jsonPath}.`,
  );
  notes.forEach((n, i) => o.push(`<text x="${LEFT}" y="${H - FOOT + 20 + i * 15}" font-size="11" fill="#444">${esc(n)}</text>`));
  o.push("</svg>");
  return `${o.join("\n")}\n`;
}

// ------------------------------------------------------------------ README section

export const README_START = "<!-- bench:start -->";
export const README_END = "<!-- bench:end -->";

/** Markdown for README.md's performance section (between the markers), from a full suite result. */
export function readmeSection(result, { jsonPath = "bench/results/suite.json", svgPath = "bench/results/suite.svg" } = {}) {
  const { models, batches, threads, runtimes, rounds, tol } = result.config;
  const find = (m, b, t, id) => result.rows.find((r) => r.model === m && r.batch === b && r.threads === t && r.runtime === id);
  const cell = (r) => {
    if (!r) return "-";
    if (r.status !== "ok") return `${r.status}`;
    const v = fmt(r.ms_per_image);
    const star = r.threads_effective !== r.threads ? "\\*" : "";
    return r.runtime === OURS ? `**${v}**` : `${v}${star} (${fmt(r.ratio, 2)}×)`;
  };
  const lines = [];
  const low = [result.canary.start.ratio, ...result.canary.rounds.map((x) => x.ratio)].some((x) => x < result.canary.threshold);
  const src = result.source?.commit
    ? ` (densenet-wasm at commit ${result.source.commit.slice(0, 7)}${result.source.dirty ? " with uncommitted changes" : ""})`
    : "";
  lines.push(
    `Latest \`npm run bench\`${src}, ${result.date.replace("T", " ").slice(0, 16)} UTC, on ${machineLine(result)}; ` +
      `${canaryLine(result)}${low ? ` (**below ${result.canary.threshold} at times: multi-thread numbers may be pessimistic**)` : ""}. ` +
      "Each runtime runs in its own process, on the same seeded random weights and inputs; " +
      `every number is the Benchmark.js median of the best of ${rounds} round${rounds > 1 ? "s" : ""}, in **ms per image** ` +
      `(in parentheses: the runtime's time / densenet-wasm's, > 1 means densenet-wasm is faster).`,
  );
  lines.push("");
  lines.push(`![ms per image by runtime and model](${svgPath})`);
  for (const b of batches) {
    lines.push("");
    lines.push(`Batch ${b}, ${models.join(", ")} at ${result.config.size}²:`);
    lines.push("");
    lines.push(`| model | threads | ${runtimes.map((id) => runtimeLabel(result, id)).join(" | ")} |`);
    lines.push(`|---|---|${runtimes.map(() => "---|").join("")}`);
    for (const m of models) {
      for (const t of threads) {
        lines.push(`| ${m} | ${t} | ${runtimes.map((id) => cell(find(m, b, t, id))).join(" | ")} |`);
      }
    }
  }
  const noted = Object.entries(result.runtimes).filter(([, i]) => i.threads_note);
  for (const [id, info] of noted)
    lines.push(
      "",
      `\\* ${id}: ${threadsNote(info)}, so its rows at ${threads.filter((t) => t > 1).join(", ")} threads ran on ${info.threads_effective}.`,
    );
  for (const [id, info] of Object.entries(result.runtimes))
    if (info.status !== "ok") lines.push("", `${id}: **${info.status}**: ${info.reason}`);
  if (batches.includes(1)) {
    lines.push("");
    lines.push("Cold start (process spawn → first logits) and peak RSS of the runtime's process, batch 1, 1 thread:");
    lines.push("");
    lines.push(`| runtime | ${models.join(" | ")} |`);
    lines.push(`|---|${models.map(() => "---|").join("")}`);
    for (const id of runtimes) {
      const cells = models.map((m) => {
        const r = find(m, 1, threads[0], id);
        return r && r.status === "ok" ? `${fmt(r.cold_start_s, 2)} s, ${fmt(r.peak_rss_mb, 0)} MB` : "-";
      });
      lines.push(`| ${id} | ${cells.join(" | ")} |`);
    }
  }
  const targets = targetTable(result);
  if (targets.length) {
    lines.push("");
    lines.push(
      "The speed issue's targets, as ratios of this run (cold start and peak RSS: `bench/footprint.mjs` inside the suite, " +
        `${result.footprint?.runs ?? "-"} interleaved runs of \`densenet run\` and onnxruntime-node's script, medians):`,
    );
    lines.push("");
    lines.push(...targets);
  }
  lines.push("");
  const a = result.agreement;
  const worst = a.worst_peer
    ? `worst ${fmtE(a.worst_peer.rel_err)} (${a.worst_peer.runtime}, ${a.worst_peer.model}, batch ${a.worst_peer.batch})`
    : "";
  lines.push(
    a.ok
      ? `Outputs agreed on every row: max|diff| ≤ ${fmtTol(tol)}·max|ref| against densenet-wasm's logits for the same input, ${worst}; ` +
          `densenet-wasm against PyTorch at batch 1: ≤ ${fmtE(a.worst_ours_vs_pytorch)}.`
      : `**Outputs did NOT agree on ${a.failures.length} row(s)**: ${a.failures.join("; ")}.`,
  );
  lines.push("");
  lines.push(
    `Source: \`${jsonPath}\` (the full table with p95, images/s, GFLOP/s, peak RSS and cold start for every row: ` +
      `\`${jsonPath.replace(/\.json$/, ".txt")}\`), made by \`npm run bench\` in ${(result.duration_s / 60).toFixed(1)} min; it installs the peers ` +
      "under `bench/peers/` and exports the models with Debian's PyTorch (`bench/export_models.py`) on first use. " +
      "`npm run bench -- --quick` runs DenseNet-121 only. Per layer: `npx densenet bench --model densenet121 --profile` " +
      "(every conv with its shape, time and GFLOP/s) and `node bench/kernels.mjs` (DenseNet-121's conv shapes from " +
      "`bench/densenet121_layers.tsv` against the micro-kernel's peak).",
  );
  return lines.join("\n");
}

/** README text with the section between the markers replaced; throws when the markers are missing. */
export function replaceReadmeSection(readme, section) {
  const a = readme.indexOf(README_START);
  const b = readme.indexOf(README_END);
  if (a < 0 || b < a) throw new Error(`README.md has no ${README_START} ... ${README_END} section`);
  return `${readme.slice(0, a + README_START.length)}\n${section}\n${readme.slice(b)}`;
}

export { RUNTIMES };
