// Shapes whose dimensions may be unknown until run time (an ONNX dim_param such as "batch"),
// and the shape rules shared by load-time inference and run time: broadcasting and the
// sliding-window geometry of Conv and the pools.
import { windowOutput } from "../plan/window.js";
import { elementCount } from "../tensor.js";

/** A dimension: a size, or null when it is only known at run time. */
export type Dim = number | null;
export type Shape = readonly Dim[];

export function formatShape(shape: Shape): string {
  return `[${shape.map((d) => d ?? "?").join(", ")}]`;
}

/** True unless both dimensions are known and differ. */
export function sameDim(a: Dim, b: Dim): boolean {
  return a === null || b === null || a === b;
}

/** The product of the dimensions, or null if one is unknown. */
export function product(dims: Shape): Dim {
  let p = 1;
  for (const d of dims) {
    if (d === null) return null;
    p *= d;
  }
  return p;
}

/** An axis attribute in [-rank, rank) (or [-rank, rank] with `inclusive`) as a non-negative index, or null. */
export function normalizeAxis(axis: number, rank: number, inclusive = false): number | null {
  const a = axis < 0 ? axis + rank : axis;
  return a >= 0 && a < (inclusive ? rank + 1 : rank) ? a : null;
}

/** Numpy-style multidirectional broadcast of two shapes, or null if they are incompatible. */
export function broadcastShapes(a: Shape, b: Shape): Shape | null {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const x = i < rank - a.length ? 1 : a[i - (rank - a.length)];
    const y = i < rank - b.length ? 1 : b[i - (rank - b.length)];
    if (x === 1) out.push(y);
    else if (y === 1) out.push(x);
    else if (x === null) out.push(y);
    else if (y === null || x === y) out.push(x);
    else return null;
  }
  return out;
}

/** Row-major strides of a shape. */
export function stridesOf(dims: readonly number[]): number[] {
  const strides = new Array<number>(dims.length);
  let s = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= dims[i];
  }
  return strides;
}

export type AutoPad = "NOTSET" | "SAME_UPPER" | "SAME_LOWER" | "VALID";

/** A sliding window over the spatial axes (Conv, MaxPool, AveragePool), one entry per axis. */
export interface WindowSpec {
  readonly kernel: readonly number[];
  readonly strides: readonly number[];
  readonly dilations: readonly number[];
  /** Explicit pads [begin..., end...] (used when autoPad is NOTSET). */
  readonly pads: readonly number[];
  readonly autoPad: AutoPad;
  readonly ceil: boolean;
}

/** Where a window lies for given input sizes: pads per axis and output sizes. */
export interface WindowGeometry {
  readonly begin: readonly Dim[];
  readonly end: readonly Dim[];
  readonly out: readonly Dim[];
}

/** ONNX's output size and padding rules (auto_pad, ceil_mode) for spatial input sizes `sizes`. */
export function windowGeometry(spec: WindowSpec, sizes: Shape): WindowGeometry {
  const r = spec.kernel.length;
  const begin: Dim[] = [],
    end: Dim[] = [],
    out: Dim[] = [];
  for (let i = 0; i < r; i++) {
    const size = sizes[i];
    const k = spec.kernel[i],
      s = spec.strides[i],
      d = spec.dilations[i];
    const extent = (k - 1) * d + 1;
    if (spec.autoPad === "NOTSET" || spec.autoPad === "VALID") {
      const pb = spec.autoPad === "VALID" ? 0 : spec.pads[i],
        pe = spec.autoPad === "VALID" ? 0 : spec.pads[i + r];
      begin.push(pb);
      end.push(pe);
      out.push(size === null ? null : windowOutput(size, k, s, pb, pe, d, spec.ceil && spec.autoPad === "NOTSET"));
    } else if (size === null) {
      begin.push(null);
      end.push(null);
      out.push(null);
    } else {
      const o = Math.ceil(size / s);
      const total = Math.max(0, (o - 1) * s + extent - size);
      const pb = spec.autoPad === "SAME_LOWER" ? Math.ceil(total / 2) : Math.floor(total / 2);
      begin.push(pb);
      end.push(total - pb);
      out.push(o);
    }
  }
  return { begin, end, out };
}

/**
 * Every output position's window (row-major over the output), as input offsets: for output
 * p, taps p*K .. p*K+K-1 (K = kernel volume, row-major over the kernel) hold the offset of
 * the tapped input element, or -1 where the tap falls outside the input. `inPadded[p]`
 * counts the taps inside the input or its explicit padding (the divisor of an average pool
 * that counts padding; a ceil-mode window's overhang beyond the padding is not counted).
 * `offsetStrides` gives the offsets' meaning (row-major input strides by default).
 */
export function windowTaps(
  inSizes: readonly number[],
  geometry: WindowGeometry,
  spec: WindowSpec,
  offsetStrides: readonly number[] = stridesOf(inSizes),
): { taps: Int32Array; inPadded: Int32Array; volume: number } {
  const r = inSizes.length;
  const out = geometry.out as number[],
    begin = geometry.begin as number[],
    end = geometry.end as number[];
  // Per axis, per output index: each kernel tap's coordinate offset (or -1) and whether it is in the padded extent.
  const axisTaps = inSizes.map((size, a) => {
    const k = spec.kernel[a];
    const offsets = new Int32Array(out[a] * k),
      padded = new Uint8Array(out[a] * k);
    for (let o = 0; o < out[a]; o++) {
      for (let t = 0; t < k; t++) {
        const pos = o * spec.strides[a] - begin[a] + t * spec.dilations[a];
        offsets[o * k + t] = pos >= 0 && pos < size ? pos * offsetStrides[a] : -1;
        padded[o * k + t] = pos >= -begin[a] && pos < size + end[a] ? 1 : 0;
      }
    }
    return { offsets, padded, k };
  });
  const volume = elementCount(spec.kernel);
  const positions = elementCount(out);
  const taps = new Int32Array(positions * volume),
    inPadded = new Int32Array(positions);
  const index = new Array<number>(r).fill(0); // output multi-index
  const tap = new Array<number>(r).fill(0);
  for (let p = 0; p < positions; p++) {
    tap.fill(0);
    let count = 0;
    for (let t = 0; t < volume; t++) {
      let offset = 0,
        inside = true,
        pad = true;
      for (let a = 0; a < r; a++) {
        const at = index[a] * axisTaps[a].k + tap[a];
        const o = axisTaps[a].offsets[at];
        if (o < 0) inside = false;
        offset += o;
        if (!axisTaps[a].padded[at]) pad = false;
      }
      taps[p * volume + t] = inside ? offset : -1;
      if (pad) count++;
      for (let a = r - 1; a >= 0 && ++tap[a] === spec.kernel[a]; a--) tap[a] = 0;
    }
    inPadded[p] = count;
    for (let a = r - 1; a >= 0 && ++index[a] === out[a]; a--) index[a] = 0;
  }
  return { taps, inPadded, volume };
}
