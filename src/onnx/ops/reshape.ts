// Operators that only relabel or pass data through: Reshape, Flatten, Identity, Dropout (inference).
import { type Dim, type Shape, formatShape, normalizeAxis, product } from "../shape.js";
import { type Int64Tensor, int64Values, reshaped } from "../tensor.js";
import { type Kernel, type OpDef, type ValueType, dimsOf, floatInput, nodeCheck } from "./types.js";

const passThrough = (typeOf: (inputs: readonly (ValueType | undefined)[]) => ValueType): Kernel => ({
  infer: (inputs) => [typeOf(inputs)],
  run: ([x]) => [x!],
});

export const identity: OpDef = {
  attributes: [],
  inputs: [1, 1],
  outputs: [1, 1],
  compile: () => passThrough(([x]) => ({ type: x!.type, shape: x!.shape })),
};

/** Dropout at inference is the identity; its mask output and training mode are refused. */
export const dropout: OpDef = {
  attributes: ["ratio", "seed"],
  inputs: [1, 3],
  outputs: [1, 2],
  compile(node) {
    nodeCheck(node, node.outputs.length < 2, "the mask output is not supported (inference only)");
    nodeCheck(node, !node.inputs[2], "the training_mode input is not supported (inference only)");
    return passThrough((inputs) => ({ type: "float32", shape: floatInput(node, inputs, 0).shape }));
  },
};

/** Flatten to 2-D: (product of dims before axis, product of the rest). */
export const flatten: OpDef = {
  attributes: ["axis"],
  inputs: [1, 1],
  outputs: [1, 1],
  compile(node, attrs) {
    const axisAttr = attrs.int("axis", 1);
    return {
      infer([x]) {
        if (x!.shape === null) return [{ type: x!.type, shape: null }];
        const axis = normalizeAxis(axisAttr, x!.shape.length, true);
        nodeCheck(node, axis !== null, () => `axis ${axisAttr} is out of range for rank ${x!.shape!.length}`);
        return [{ type: x!.type, shape: [product(x!.shape.slice(0, axis)), product(x!.shape.slice(axis))] }];
      },
      run: ([x], [out]) => [reshaped(x!, dimsOf(out))],
    };
  },
};

/** Reshape to the shape input: 0 copies the input's dimension (unless allowzero), one -1 is inferred. */
export const reshape: OpDef = {
  attributes: ["allowzero"],
  inputs: [2, 2],
  outputs: [1, 1],
  compile(node, attrs) {
    const allowZero = attrs.int("allowzero", 0) === 1;
    return {
      infer([x, shape]) {
        nodeCheck(node, shape!.type === "int64", "the shape input must be int64");
        nodeCheck(node, shape!.shape === null || shape!.shape.length === 1, "the shape input must be 1-D");
        if (!shape!.value) {
          const rank = shape!.shape?.[0] ?? null;
          return [{ type: x!.type, shape: rank === null ? null : new Array<Dim>(rank).fill(null) }];
        }
        return [
          {
            type: x!.type,
            shape: reshapeDims(node, x!.shape, int64Values(shape!.value as Int64Tensor, `${node.label}: shape`), allowZero),
          },
        ];
      },
      run: ([x], [out]) => [reshaped(x!, dimsOf(out))],
    };
  },
};

function reshapeDims(node: Parameters<OpDef["compile"]>[0], input: Shape | null, target: readonly number[], allowZero: boolean): Shape {
  const what = () => `cannot reshape ${input ? formatShape(input) : "a tensor"} to [${target.join(", ")}]`;
  nodeCheck(
    node,
    target.filter((d) => d === -1).length <= 1 && target.every((d) => d >= -1),
    () => `${what()}: at most one -1 and no other negative size`,
  );
  nodeCheck(
    node,
    !(allowZero && target.includes(0) && target.includes(-1)),
    () => `${what()}: with allowzero, 0 and -1 cannot both appear`,
  );
  const dims: Dim[] = target.map((d, i) => {
    if (d !== 0 || allowZero) return d;
    nodeCheck(node, input === null || i < input.length, () => `${what()}: 0 at position ${i} copies no input dimension`);
    return input === null ? null : input[i];
  });
  // Dimensions copied by a 0 cancel out, so [0, -1] of (N, C, 1, 1) is (N, C) even for an unknown N.
  const copied = (i: number) => target[i] === 0 && !allowZero;
  const total = input === null ? null : product(input.filter((_, i) => !copied(i)));
  const free = dims.indexOf(-1);
  const rest = product(dims.filter((_, i) => i !== free && !copied(i)));
  if (free >= 0) {
    if (total === null || rest === null) dims[free] = null;
    else {
      nodeCheck(node, rest !== 0 && total % rest === 0, () => `${what()}: ${total} elements do not divide into ${rest}`);
      dims[free] = total / rest;
    }
  } else if (total !== null && rest !== null) {
    nodeCheck(node, total === rest, () => `${what()}: ${total} elements, the target has ${rest}`);
  }
  return dims;
}
