// BatchNormalization in inference mode: y = (x - mean) / sqrt(var + epsilon) * scale + B,
// per channel (axis 1). Training mode and its extra outputs are refused.
import { type Tensor, elementCount } from "../../tensor.js";
import { formatShape, sameDim } from "../shape.js";
import { type OpDef, floatInput, floatOut, nodeCheck, shapeOf } from "./types.js";

export const batchNormalization: OpDef = {
  attributes: ["epsilon", "momentum", "spatial", "training_mode"],
  inputs: [5, 5],
  outputs: [1, 5],
  compile(node, attrs) {
    const epsilon = attrs.float("epsilon", 1e-5);
    nodeCheck(node, attrs.int("spatial", 1) === 1, "spatial = 0 (per-element statistics) is not supported");
    nodeCheck(node, attrs.int("training_mode", 0) === 0, "training_mode = 1 is not supported (inference only)");
    nodeCheck(node, node.outputs.length === 1, "the running-statistics outputs are training-mode outputs, which are not supported");
    return {
      infer(inputs) {
        const x = shapeOf(node, floatInput(node, inputs, 0), 0, (r) => r >= 2, "BatchNormalization needs (N, C, ...)");
        const channels = x?.[1] ?? null;
        ["scale", "B", "mean", "var"].forEach((what, k) => {
          const p = floatInput(node, inputs, k + 1).shape;
          nodeCheck(
            node,
            p === null || (p.length === 1 && sameDim(p[0], channels)),
            () => `${what} has shape ${formatShape(p!)}, the input ${formatShape(x!)} needs [${channels}]`,
          );
        });
        return [floatOut(x)];
      },
      run([xT, scale, bias, mean, variance]) {
        const x = xT as Tensor;
        const channels = x.dims[1],
          inner = elementCount(x.dims.slice(2));
        const y = new Float32Array(x.data.length);
        for (let c = 0; c < channels; c++) {
          const s = Number(scale!.data[c]) / Math.sqrt(Number(variance!.data[c]) + epsilon);
          const shift = Number(bias!.data[c]) - Number(mean!.data[c]) * s;
          for (let n = 0; n < x.dims[0]; n++) {
            const base = (n * channels + c) * inner;
            for (let i = 0; i < inner; i++) y[base + i] = x.data[base + i] * s + shift;
          }
        }
        return [{ data: y, dims: x.dims }];
      },
    };
  },
};
