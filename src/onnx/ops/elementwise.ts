// Element-wise float operators: Relu, Sigmoid, Clip (unary) and Add, Mul (numpy broadcasting).
import { type Tensor, elementCount } from "../../tensor.js";
import { broadcastShapes, formatShape, stridesOf } from "../shape.js";
import { type Kernel, type OpDef, dimsOf, floatInput, floatOut, nodeCheck } from "./types.js";

function unaryKernel(node: Parameters<OpDef["compile"]>[0], f: (x: number) => number): Kernel {
  return {
    infer: (inputs) => [floatOut(floatInput(node, inputs, 0).shape)],
    run: ([x]) => [{ data: (x as Tensor).data.map(f), dims: x!.dims }],
  };
}

export const relu: OpDef = {
  attributes: [],
  inputs: [1, 1],
  outputs: [1, 1],
  compile: (node) => unaryKernel(node, (x) => (x > 0 ? x : 0)),
};

export const sigmoid: OpDef = {
  attributes: [],
  inputs: [1, 1],
  outputs: [1, 1],
  compile: (node) => unaryKernel(node, (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)))),
};

/** Clip: bounds are attributes before opset 11 and optional scalar inputs from 11 on; y = min(max(x, lo), hi). */
export const clip: OpDef = {
  attributes: ["min", "max"],
  inputs: [1, 3],
  outputs: [1, 1],
  compile(node, attrs, ctx) {
    if (ctx.opset < 11) {
      const lo = attrs.float("min", -Infinity),
        hi = attrs.float("max", Infinity);
      return unaryKernel(node, (x) => Math.min(Math.max(x, lo), hi));
    }
    nodeCheck(node, !attrs.has("min") && !attrs.has("max"), "from opset 11 on, min and max are inputs, not attributes");
    return {
      infer(inputs) {
        const x = floatInput(node, inputs, 0);
        for (const i of [1, 2]) {
          if (!inputs[i]) continue;
          const b = floatInput(node, inputs, i);
          nodeCheck(
            node,
            b.shape === null || b.shape.every((d) => d === 1 || d === null),
            () => `input ${i} ('${node.inputs[i]}') must be a scalar, got shape ${formatShape(b.shape!)}`,
          );
        }
        return [floatOut(x.shape)];
      },
      run([x, min, max]) {
        const lo = min ? Number(min.data[0]) : -Infinity,
          hi = max ? Number(max.data[0]) : Infinity;
        return [{ data: (x as Tensor).data.map((v) => Math.min(Math.max(v, lo), hi)), dims: x!.dims }];
      },
    };
  },
};

function binary(f: (a: number, b: number) => number): OpDef {
  return {
    attributes: [],
    inputs: [2, 2],
    outputs: [1, 1],
    compile: (node) => ({
      infer(inputs) {
        const a = floatInput(node, inputs, 0),
          b = floatInput(node, inputs, 1);
        if (a.shape === null || b.shape === null) return [floatOut(null)];
        const shape = broadcastShapes(a.shape, b.shape);
        nodeCheck(node, shape !== null, () => `shapes ${formatShape(a.shape!)} and ${formatShape(b.shape!)} do not broadcast`);
        return [floatOut(shape)];
      },
      run([a, b], [out]) {
        const dims = dimsOf(out);
        return [{ data: broadcastBinary(a as Tensor, b as Tensor, dims, f), dims }];
      },
    }),
  };
}

export const add = binary((a, b) => a + b);
export const mul = binary((a, b) => a * b);

/** out[i] = f(a[ia], b[ib]) where each operand's index ignores its broadcast (size-1 or missing) axes. */
function broadcastBinary(a: Tensor, b: Tensor, dims: readonly number[], f: (a: number, b: number) => number): Float32Array {
  const n = elementCount(dims);
  const out = new Float32Array(n);
  if (a.data.length === n && b.data.length === n) {
    for (let i = 0; i < n; i++) out[i] = f(a.data[i], b.data[i]);
    return out;
  }
  const sa = broadcastStrides(a.dims, dims),
    sb = broadcastStrides(b.dims, dims);
  const index = new Array<number>(dims.length).fill(0);
  let ia = 0,
    ib = 0;
  for (let i = 0; i < n; i++) {
    out[i] = f(a.data[ia], b.data[ib]);
    for (let d = dims.length - 1; d >= 0; d--) {
      ia += sa[d];
      ib += sb[d];
      if (++index[d] < dims[d]) break;
      ia -= sa[d] * dims[d];
      ib -= sb[d] * dims[d];
      index[d] = 0;
    }
  }
  return out;
}

/** Strides of `dims` aligned to the right of `target`, 0 along broadcast axes. */
export function broadcastStrides(dims: readonly number[], target: readonly number[]): number[] {
  const own = stridesOf(dims);
  return target.map((_, i) => {
    const j = i - (target.length - dims.length);
    return j < 0 || dims[j] === 1 ? 0 : own[j];
  });
}
