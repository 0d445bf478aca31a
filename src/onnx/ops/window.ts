// The sliding-window attributes shared by Conv, MaxPool and AveragePool.
import type { Attributes } from "../attributes.js";
import type { OnnxNode } from "../graph.js";
import { type AutoPad, type Shape, type WindowGeometry, type WindowSpec, formatShape, windowGeometry } from "../shape.js";
import { nodeCheck } from "./types.js";

const AUTO_PADS: readonly AutoPad[] = ["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"];
/** Largest kernel size, stride, dilation or pad accepted (a hostile file could ask for any; real models stay under 16). */
export const MAX_WINDOW = 1024;
/**
 * Most window taps (output positions x kernel volume) of one image: the interpreter tabulates
 * them (4 bytes each). DenseNet's stem at 1024x1024 needs 12.8 million.
 */
export const MAX_WINDOW_TAPS = 1 << 26;

/** The window attributes as written; `kernel` is null when kernel_shape is absent (Conv takes it from W). */
export interface WindowAttributes {
  readonly kernel: readonly number[] | null;
  readonly strides: readonly number[] | null;
  readonly dilations: readonly number[] | null;
  readonly pads: readonly number[] | null;
  readonly autoPad: AutoPad;
  readonly ceil: boolean;
}

export function readWindowAttributes(node: OnnxNode, attrs: Attributes): WindowAttributes {
  const autoPad = attrs.string("auto_pad", "NOTSET") as AutoPad;
  nodeCheck(node, AUTO_PADS.includes(autoPad), () => `auto_pad '${autoPad}' is not supported (${AUTO_PADS.join(", ")} are)`);
  const ceilMode = attrs.int("ceil_mode", 0);
  nodeCheck(node, ceilMode === 0 || ceilMode === 1, () => `ceil_mode must be 0 or 1, got ${ceilMode}`);
  const list = (name: string) => (attrs.has(name) ? attrs.ints(name) : null);
  const spec: WindowAttributes = {
    kernel: list("kernel_shape"),
    strides: list("strides"),
    dilations: list("dilations"),
    pads: list("pads"),
    autoPad,
    ceil: ceilMode === 1,
  };
  if (spec.kernel) windowSpec(node, spec, spec.kernel);
  return spec;
}

/** The window for a kernel of the given spatial size, with every attribute's length and range checked. */
export function windowSpec(node: OnnxNode, a: WindowAttributes, kernel: readonly number[]): WindowSpec {
  const r = kernel.length;
  const ones = new Array<number>(r).fill(1);
  const spec: WindowSpec = {
    kernel,
    strides: a.strides ?? ones,
    dilations: a.dilations ?? ones,
    pads: a.pads ?? new Array<number>(2 * r).fill(0),
    autoPad: a.autoPad,
    ceil: a.ceil,
  };
  const lengths: [string, readonly number[], number][] = [
    ["strides", spec.strides, r],
    ["dilations", spec.dilations, r],
    ["pads", spec.pads, 2 * r],
  ];
  for (const [name, values, n] of lengths) {
    nodeCheck(node, values.length === n, () => `${name} [${values.join(", ")}] needs ${n} values for a ${r}-D kernel`);
  }
  nodeCheck(node, r >= 1, "the kernel has no spatial dimensions");
  nodeCheck(
    node,
    kernel.every((k) => k >= 1),
    () => `kernel_shape [${kernel.join(", ")}] must be positive`,
  );
  nodeCheck(
    node,
    spec.strides.every((s) => s >= 1),
    () => `strides [${spec.strides.join(", ")}] must be positive`,
  );
  nodeCheck(
    node,
    spec.dilations.every((d) => d >= 1),
    () => `dilations [${spec.dilations.join(", ")}] must be positive`,
  );
  nodeCheck(
    node,
    spec.pads.every((p) => p >= 0),
    () => `pads [${spec.pads.join(", ")}] must not be negative`,
  );
  const largest = Math.max(...kernel, ...spec.strides, ...spec.dilations, ...spec.pads);
  nodeCheck(node, largest <= MAX_WINDOW, () => `window attribute value ${largest} exceeds the supported ${MAX_WINDOW}`);
  return spec;
}

/** The window's geometry over input (N, C, spatial...), with an error if an output would be empty. */
export function checkedGeometry(node: OnnxNode, spec: WindowSpec, input: Shape): WindowGeometry {
  const spatial = input.slice(2);
  nodeCheck(
    node,
    spatial.length === spec.kernel.length,
    () =>
      `input shape ${formatShape(input)} has ${spatial.length} spatial dimensions, the kernel [${spec.kernel.join(", ")}] has ${spec.kernel.length}`,
  );
  const g = windowGeometry(spec, spatial);
  nodeCheck(
    node,
    g.out.every((d) => d === null || d >= 1),
    () => `input ${formatShape(input)} is too small for kernel [${spec.kernel.join(", ")}] (output spatial size ${formatShape(g.out)})`,
  );
  const taps = g.out.reduce<number | null>((n, d) => (n === null || d === null ? null : n * d), 1);
  const volume = spec.kernel.reduce((a, b) => a * b, 1);
  nodeCheck(
    node,
    taps === null || taps * volume <= MAX_WINDOW_TAPS,
    () =>
      `output spatial size ${formatShape(g.out)} with kernel [${spec.kernel.join(", ")}] needs ${taps! * volume} window taps per image, over the limit of ${MAX_WINDOW_TAPS}`,
  );
  return g;
}
