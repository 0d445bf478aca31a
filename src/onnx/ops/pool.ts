// MaxPool (with the optional int64 Indices output) and AveragePool over any number of
// spatial dimensions, and the global pools.
import { type Tensor, elementCount } from "../../tensor.js";
import type { OnnxNode } from "../graph.js";
import { type WindowSpec, stridesOf, windowTaps } from "../shape.js";
import type { OnnxTensor } from "../tensor.js";
import { type OpDef, type ValueType, dimsOf, floatInput, floatOut, nodeCheck, shapeOf } from "./types.js";
import { checkedGeometry, readWindowAttributes, windowSpec } from "./window.js";

const WINDOW_ATTRIBUTES = ["auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "strides"];

function poolInput(node: OnnxNode, inputs: readonly (ValueType | undefined)[]) {
  return shapeOf(node, floatInput(node, inputs, 0), 0, (r) => r >= 3, "pooling needs (N, C, spatial...)");
}

/** Calls body(planeIn, planeOut) for each (n, c) plane of x and the output. */
function forEachPlane(x: Tensor, outPlane: number, body: (inOffset: number, outOffset: number) => void): void {
  const planes = x.dims[0] * x.dims[1],
    inPlane = elementCount(x.dims.slice(2));
  for (let q = 0; q < planes; q++) body(q * inPlane, q * outPlane);
}

function poolSpec(node: OnnxNode, attrs: Parameters<OpDef["compile"]>[1]): WindowSpec {
  const window = readWindowAttributes(node, attrs);
  nodeCheck(node, window.kernel !== null, "attribute 'kernel_shape' is required");
  return windowSpec(node, window, window.kernel);
}

export const maxPool: OpDef = {
  attributes: [...WINDOW_ATTRIBUTES, "storage_order"],
  inputs: [1, 1],
  outputs: [1, 2],
  compile(node, attrs) {
    const spec = poolSpec(node, attrs);
    const storageOrder = attrs.int("storage_order", 0);
    nodeCheck(node, storageOrder === 0 || storageOrder === 1, () => `storage_order must be 0 or 1, got ${storageOrder}`);
    return {
      infer(inputs) {
        const x = poolInput(node, inputs);
        const shape = x ? [x[0], x[1], ...checkedGeometry(node, spec, x).out] : null;
        return [floatOut(shape), { type: "int64", shape }];
      },
      run([input], [out]) {
        const x = input as Tensor,
          dims = dimsOf(out);
        const spatial = x.dims.slice(2);
        const geometry = checkedGeometry(node, spec, x.dims);
        const { taps, volume } = windowTaps(spatial, geometry, spec);
        // Indices count in row-major order, or column-major over the spatial axes with storage_order 1.
        const columnStrides = spatial.map((_, a) => elementCount(spatial.slice(0, a)));
        const indexTaps = storageOrder === 1 ? windowTaps(spatial, geometry, spec, columnStrides).taps : taps;
        const positions = taps.length / volume,
          inPlane = stridesOf(x.dims)[1];
        const y = new Float32Array(elementCount(dims)),
          indices = new BigInt64Array(y.length);
        forEachPlane(x, positions, (inOffset, outOffset) => {
          for (let p = 0; p < positions; p++) {
            let best = -Infinity,
              at = -1;
            for (let t = p * volume; t < (p + 1) * volume; t++) {
              if (taps[t] >= 0 && (at < 0 || x.data[inOffset + taps[t]] > best)) {
                best = x.data[inOffset + taps[t]];
                at = t;
              }
            }
            y[outOffset + p] = best;
            indices[outOffset + p] = at < 0 ? -1n : BigInt((outOffset / positions) * inPlane + indexTaps[at]);
          }
        });
        const outputs: OnnxTensor[] = [{ data: y, dims }];
        if (node.outputs.length > 1) outputs.push({ data: indices, dims });
        return outputs;
      },
    };
  },
};

export const averagePool: OpDef = {
  attributes: [...WINDOW_ATTRIBUTES, "count_include_pad"],
  inputs: [1, 1],
  outputs: [1, 1],
  compile(node, attrs) {
    const spec = poolSpec(node, attrs);
    const countPad = attrs.int("count_include_pad", 0) === 1;
    return {
      infer(inputs) {
        const x = poolInput(node, inputs);
        return [floatOut(x ? [x[0], x[1], ...checkedGeometry(node, spec, x).out] : null)];
      },
      run([input], [out]) {
        const x = input as Tensor,
          dims = dimsOf(out);
        const { taps, inPadded, volume } = windowTaps(x.dims.slice(2), checkedGeometry(node, spec, x.dims), spec);
        const positions = taps.length / volume;
        const y = new Float32Array(elementCount(dims));
        forEachPlane(x, positions, (inOffset, outOffset) => {
          for (let p = 0; p < positions; p++) {
            let sum = 0,
              count = 0;
            for (let t = p * volume; t < (p + 1) * volume; t++) {
              if (taps[t] < 0) continue;
              sum += x.data[inOffset + taps[t]];
              count++;
            }
            y[outOffset + p] = sum / (countPad ? inPadded[p] : count);
          }
        });
        return [{ data: y, dims }];
      },
    };
  },
};

function globalPool(reduce: (values: Float32Array) => number): OpDef {
  return {
    attributes: [],
    inputs: [1, 1],
    outputs: [1, 1],
    compile: (node) => ({
      infer(inputs) {
        const x = poolInput(node, inputs);
        return [floatOut(x ? [x[0], x[1], ...x.slice(2).map(() => 1)] : null)];
      },
      run([input], [out]) {
        const x = input as Tensor,
          dims = dimsOf(out);
        const inPlane = elementCount(x.dims.slice(2));
        const y = new Float32Array(x.dims[0] * x.dims[1]);
        forEachPlane(x, 1, (inOffset, outOffset) => {
          y[outOffset] = reduce(x.data.subarray(inOffset, inOffset + inPlane));
        });
        return [{ data: y, dims }];
      },
    }),
  };
}

export const globalAveragePool = globalPool((v) => v.reduce((a, b) => a + b, 0) / v.length);
export const globalMaxPool = globalPool((v) => v.reduce((a, b) => Math.max(a, b), -Infinity));
