// Softmax. Opset 13 on: along one axis (default -1). Before 13: the input is viewed as 2-D,
// (dims before axis) x (dims from axis on), default axis 1, and each row is normalised.
import { type Tensor, elementCount } from "../../tensor.js";
import { normalizeAxis } from "../shape.js";
import { type OpDef, floatInput, floatOut, nodeCheck } from "./types.js";

export const softmax: OpDef = {
  attributes: ["axis"],
  inputs: [1, 1],
  outputs: [1, 1],
  compile(node, attrs, ctx) {
    const coerce2d = ctx.opset < 13;
    const axisAttr = attrs.int("axis", coerce2d ? 1 : -1);
    const axisOf = (rank: number) => {
      const axis = normalizeAxis(axisAttr, rank);
      nodeCheck(node, axis !== null, () => `axis ${axisAttr} is out of range for rank ${rank}`);
      return axis;
    };
    return {
      infer(inputs) {
        const x = floatInput(node, inputs, 0);
        if (x.shape !== null) axisOf(x.shape.length);
        return [floatOut(x.shape)];
      },
      run([input]) {
        const x = input as Tensor;
        const axis = axisOf(x.dims.length);
        const size = (from: number, to: number) => elementCount(x.dims.slice(from, to));
        // Softmax over `len` elements spaced `inner` apart, for each of `outer` x `inner` starts.
        const outer = size(0, axis),
          len = coerce2d ? size(axis, x.dims.length) : x.dims[axis],
          inner = coerce2d ? 1 : size(axis + 1, x.dims.length);
        const y = new Float32Array(x.data.length);
        for (let o = 0; o < outer; o++) {
          for (let i = 0; i < inner; i++) {
            const base = o * len * inner + i;
            let max = -Infinity;
            for (let k = 0; k < len; k++) max = Math.max(max, x.data[base + k * inner]);
            let sum = 0;
            for (let k = 0; k < len; k++) sum += Math.exp(x.data[base + k * inner] - max);
            for (let k = 0; k < len; k++) y[base + k * inner] = Math.exp(x.data[base + k * inner] - max) / sum;
          }
        }
        return [{ data: y, dims: x.dims }];
      },
    };
  },
};
