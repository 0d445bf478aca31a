// Pad in constant mode (the only mode DenseNet exporters emit). Before opset 11 pads and the
// value are attributes; from 11 on they are inputs (pads int64, constant_value a scalar,
// from 18 an optional axes input). Negative pads crop.
import { type Tensor, elementCount, formatDims } from "../../tensor.js";
import { Attributes } from "../attributes.js";
import type { OnnxNode } from "../graph.js";
import { type Dim, formatShape, normalizeAxis } from "../shape.js";
import { type Int64Tensor, type OnnxTensor, int64Values } from "../tensor.js";
import { type CompileContext, type OpDef, dimsOf, floatInput, floatOut, nodeCheck } from "./types.js";
import { MAX_WINDOW } from "./window.js";

/** A Pad node's settings: pads per axis for a rank, when known, and the fill value. */
interface PadReader {
  /** [begin..., end...] for every axis of a rank-r input; null when the pads are not known yet. */
  pads(rank: number, padsInput: OnnxTensor | undefined, axesInput: OnnxTensor | undefined): number[] | null;
  /** The fill value from the attribute, or undefined when it comes from the constant_value input. */
  readonly attributeValue: number | undefined;
}

function readPad(node: OnnxNode, attrs: Attributes, opset: number): PadReader {
  const mode = attrs.string("mode", "constant");
  nodeCheck(node, mode === "constant", () => `mode '${mode}' is not supported (only 'constant' is)`);
  const attrPads = opset < 11 ? attrs.ints("pads") : null;
  return {
    attributeValue: opset < 11 ? attrs.float("value", 0) : undefined,
    pads(rank, padsInput, axesInput) {
      const raw = attrPads ?? (padsInput ? int64Values(padsInput as Int64Tensor, `${node.label}: pads`) : null);
      if (raw === null) return null;
      const axes = axesInput
        ? int64Values(axesInput as Int64Tensor, `${node.label}: axes`).map((a) => {
            const axis = normalizeAxis(a, rank);
            nodeCheck(node, axis !== null, () => `axis ${a} is out of range for rank ${rank}`);
            return axis;
          })
        : [...Array(rank).keys()];
      nodeCheck(
        node,
        raw.length === 2 * axes.length,
        () => `pads ${formatDims(raw)} need ${2 * axes.length} values for ${axes.length} axes`,
      );
      nodeCheck(
        node,
        raw.every((p) => Math.abs(p) <= MAX_WINDOW),
        () => `pads ${formatDims(raw)}: a pad over ${MAX_WINDOW} is not supported`,
      );
      const pads = new Array<number>(2 * rank).fill(0);
      axes.forEach((axis, i) => {
        pads[axis] = raw[i];
        pads[axis + rank] = raw[i + axes.length];
      });
      return pads;
    },
  };
}

/** A Pad's pads and fill value when both are constants (for graph rewriting), else null. */
export function constantPadding(node: OnnxNode, ctx: CompileContext, rank: number): { pads: number[]; value: number } | null {
  const reader = readPad(node, new Attributes(node), ctx.opset);
  const [, padsName, valueName, axesName] = node.inputs;
  const pads = reader.pads(rank, padsName ? ctx.constant(padsName) : undefined, axesName ? ctx.constant(axesName) : undefined);
  const valueTensor = valueName ? ctx.constant(valueName) : undefined;
  if (pads === null || (axesName && !ctx.constant(axesName)) || (valueName && !valueTensor)) return null;
  return { pads, value: valueTensor ? Number(valueTensor.data[0]) : (reader.attributeValue ?? 0) };
}

export const pad: OpDef = {
  attributes: ["mode", "pads", "value"],
  inputs: [1, 4],
  outputs: [1, 1],
  compile(node, attrs, ctx) {
    const reader = readPad(node, attrs, ctx.opset);
    return {
      infer(inputs) {
        const x = floatInput(node, inputs, 0);
        if (ctx.opset >= 11) {
          nodeCheck(node, inputs[1]?.type === "int64", "the pads input must be int64");
          if (inputs[2]) floatInput(node, inputs, 2);
          nodeCheck(node, !inputs[3] || inputs[3].type === "int64", "the axes input must be int64");
        }
        if (x.shape === null) return [floatOut(null)];
        const r = x.shape.length;
        const pads = reader.pads(r, inputs[1]?.value, inputs[3]?.value);
        const dims: Dim[] = x.shape.map((d, i) => (d === null || pads === null ? null : d + pads[i] + pads[i + r]));
        nodeCheck(
          node,
          dims.every((d) => d === null || d >= 0),
          () => `pads [${pads!.join(", ")}] crop ${formatShape(x.shape!)} below zero size`,
        );
        return [floatOut(dims)];
      },
      run([xT, padsT, valueT, axesT], [out]) {
        const x = xT as Tensor,
          dims = dimsOf(out),
          r = dims.length;
        const pads = reader.pads(r, padsT, axesT)!;
        const value = valueT ? (valueT as Tensor).data[0] : (reader.attributeValue ?? 0);
        const y = new Float32Array(elementCount(dims)).fill(value);
        copyShifted(x, y, dims, pads.slice(0, r));
        return [{ data: y, dims }];
      },
    };
  },
};

/** Copies every element of x to y at its index shifted by `begin` (skipping what falls outside y). */
function copyShifted(x: Tensor, y: Float32Array, dims: readonly number[], begin: readonly number[]): void {
  const r = dims.length;
  const index = new Array<number>(r).fill(0);
  for (let i = 0; i < x.data.length; i++) {
    let at = 0,
      inside = true;
    for (let a = 0; a < r; a++) {
      const o = index[a] + begin[a];
      if (o < 0 || o >= dims[a]) {
        inside = false;
        break;
      }
      at = at * dims[a] + o;
    }
    if (inside) y[at] = x.data[i];
    for (let a = r - 1; a >= 0 && ++index[a] === x.dims[a]; a--) index[a] = 0;
  }
}
