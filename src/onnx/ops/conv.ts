// Conv over any number of spatial dimensions, with groups, dilations, auto_pad and an
// optional bias. Accumulates in float64 over precomputed window offsets.
import { type Tensor, elementCount } from "../../tensor.js";
import { type Shape, formatShape, product, sameDim, windowTaps } from "../shape.js";
import { type OpDef, dimsOf, floatInput, floatOut, nodeCheck, shapeOf } from "./types.js";
import { checkedGeometry, readWindowAttributes, windowSpec } from "./window.js";

/** Most multiply-adds one interpreted Conv may take per image (DenseNet-121's largest: 0.12 G). */
export const MAX_CONV_MACS = 2 ** 32;

export const conv: OpDef = {
  attributes: ["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"],
  inputs: [2, 3],
  outputs: [1, 1],
  compile(node, attrs) {
    const window = readWindowAttributes(node, attrs);
    const group = attrs.int("group", 1);
    nodeCheck(node, group >= 1, () => `group must be positive, got ${group}`);
    /** The window for weights of shape w (kernel_shape, when given, must agree with it). */
    const specFor = (w: readonly number[]) => {
      const kernel = w.slice(2);
      nodeCheck(
        node,
        !window.kernel || window.kernel.join() === kernel.join(),
        () => `kernel_shape [${window.kernel!.join(", ")}] disagrees with weight shape [${w.join(", ")}]`,
      );
      return windowSpec(node, window, kernel);
    };
    return {
      infer(inputs) {
        const x = shapeOf(node, floatInput(node, inputs, 0), 0, (r) => r >= 3, "Conv needs (N, C, spatial...)");
        const w = shapeOf(node, floatInput(node, inputs, 1), 1, (r) => r >= 3, "Conv weights need (M, C/group, kernel...)");
        const rank = x?.length ?? w?.length ?? null;
        if (x && w) nodeCheck(node, x.length === w.length, () => `input ${formatShape(x)} and weight ${formatShape(w)} differ in rank`);
        const m = w?.[0] ?? null;
        if (x && w) {
          nodeCheck(
            node,
            sameDim(x[1], w[1] === null ? null : w[1] * group),
            () =>
              `weight shape ${formatShape(w)} needs ${w[1]! * group} input channels (${w[1]} x group ${group}), input ${formatShape(x)} has ${x[1]}`,
          );
        }
        nodeCheck(node, m === null || m % group === 0, () => `${m} output channels do not split into ${group} groups`);
        if (inputs[2]) {
          const b = floatInput(node, inputs, 2).shape;
          nodeCheck(node, b === null || (b.length === 1 && sameDim(b[0], m)), () => `bias shape ${formatShape(b!)} must be [${m ?? "M"}]`);
        }
        if (rank === null) return [floatOut(null)];
        let spatial: Shape = new Array(rank - 2).fill(null);
        if (x && w?.every((d) => d !== null)) spatial = checkedGeometry(node, specFor(w as number[]), x).out;
        const macs = product([m, w?.[1] ?? null, ...(w?.slice(2) ?? [null]), ...spatial]);
        nodeCheck(
          node,
          macs === null || macs <= MAX_CONV_MACS,
          () => `needs ${macs} multiply-adds per image, over the interpreter's limit of ${MAX_CONV_MACS}`,
        );
        return [floatOut([x?.[0] ?? null, m, ...spatial])];
      },
      run([xT, wT, bT], [out]) {
        const x = xT as Tensor,
          w = wT as Tensor,
          b = bT as Tensor | undefined;
        const dims = dimsOf(out);
        const spec = specFor(w.dims);
        const { taps, volume } = windowTaps(x.dims.slice(2), checkedGeometry(node, spec, x.dims), spec);
        const [n, cin] = x.dims,
          m = dims[1];
        const cg = cin / group,
          mg = m / group;
        const planeIn = elementCount(x.dims.slice(2)),
          positions = taps.length / volume;
        const y = new Float32Array(n * m * positions);
        const acc = new Float64Array(positions);
        for (let i = 0; i < n; i++) {
          for (let o = 0; o < m; o++) {
            acc.fill(b ? b.data[o] : 0);
            const g = Math.floor(o / mg);
            for (let c = 0; c < cg; c++) {
              const plane = (i * cin + g * cg + c) * planeIn;
              for (let t = 0; t < volume; t++) {
                const wv = w.data[(o * cg + c) * volume + t];
                if (wv === 0) continue;
                for (let p = 0; p < positions; p++) {
                  const off = taps[p * volume + t];
                  if (off >= 0) acc[p] += wv * x.data[plane + off];
                }
              }
            }
            y.set(acc, (i * m + o) * positions);
          }
        }
        return [{ data: y, dims }];
      },
    };
  },
};
