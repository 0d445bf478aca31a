// Pad in constant mode (the only mode DenseNet exporters emit). Before opset 11 pads and the
// value are attributes; from 11 on they are inputs (pads int64, constant_value a scalar,
// from 18 an optional axes input). Negative pads crop.
import type { Tensor } from "../../tensor.js";
import { type Dim, formatShape, normalizeAxis } from "../shape.js";
import { type Int64Tensor, type OnnxTensor, int64Values } from "../tensor.js";
import { type OpDef, type ValueType, dimsOf, floatInput, floatOut, nodeCheck } from "./types.js";

export const pad: OpDef = {
  attributes: ["mode", "pads", "value"], inputs: [1, 4], outputs: [1, 1],
  compile(node, attrs, ctx) {
    const mode = attrs.string("mode", "constant");
    nodeCheck(node, mode === "constant", () => `mode '${mode}' is not supported (only 'constant' is)`);
    const fromInputs = ctx.opset >= 11;
    const attrPads = fromInputs ? null : attrs.ints("pads");
    const attrValue = fromInputs ? 0 : attrs.float("value", 0);
    /** Per-axis [begin..., end...] pads for rank r, from the attribute or the pads/axes inputs. */
    const padsFor = (rank: number, padsValue: OnnxTensor | undefined, axesValue: OnnxTensor | undefined): number[] | null => {
      const raw = attrPads ?? (padsValue ? int64Values(padsValue as Int64Tensor) : null);
      if (raw === null) return null;
      const axes = axesValue ? int64Values(axesValue as Int64Tensor).map((a) => {
        const axis = normalizeAxis(a, rank);
        nodeCheck(node, axis !== null, () => `axis ${a} is out of range for rank ${rank}`);
        return axis;
      }) : [...Array(rank).keys()];
      nodeCheck(node, raw.length === 2 * axes.length, () => `pads [${raw.join(", ")}] need ${2 * axes.length} values for ${axes.length} axes`);
      const pads = new Array<number>(2 * rank).fill(0);
      axes.forEach((axis, i) => { pads[axis] = raw[i]; pads[axis + rank] = raw[i + axes.length]; });
      return pads;
    };
    return {
      infer(inputs) {
        const x = floatInput(node, inputs, 0);
        if (fromInputs) {
          nodeCheck(node, inputs[1]?.type === "int64", "the pads input must be int64");
          if (inputs[2]) floatInput(node, inputs, 2);
          nodeCheck(node, !inputs[3] || inputs[3].value, "a non-constant axes input is not supported");
        }
        if (x.shape === null) return [floatOut(null)];
        const pads = padsFor(x.shape.length, inputs[1]?.value, inputs[3]?.value);
        const r = x.shape.length;
        const dims: Dim[] = x.shape.map((d, i) => (d === null || pads === null ? null : d + pads[i] + pads[i + r]));
        nodeCheck(node, dims.every((d) => d === null || d >= 0), () => `pads [${pads!.join(", ")}] crop ${formatShape(x.shape!)} below zero size`);
        return [floatOut(dims)];
      },
      run([xT, padsT, valueT, axesT], [out]) {
        const x = xT as Tensor, dims = dimsOf(out), r = dims.length;
        const pads = padsFor(r, padsT, axesT)!;
        const value = valueT ? (valueT as Tensor).data[0] : attrValue;
        const y = new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(value);
        copyRegion(x, y, dims, pads.slice(0, r));
        return [{ data: y, dims }];
      },
    };
  },
};

/** Copies every element of x to y at its index shifted by `begin` (skipping what falls outside y). */
function copyRegion(x: Tensor, y: Float32Array, dims: readonly number[], begin: readonly number[]): void {
  const r = dims.length;
  if (x.data.length === 0) return;
  const index = new Array<number>(r).fill(0);
  for (let i = 0; i < x.data.length; i++) {
    let at = 0, inside = true;
    for (let a = 0; a < r; a++) {
      const o = index[a] + begin[a];
      if (o < 0 || o >= dims[a]) { inside = false; break; }
      at = at * dims[a] + o;
    }
    if (inside) y[at] = x.data[i];
    for (let a = r - 1; a >= 0 && ++index[a] === x.dims[a]; a--) index[a] = 0;
  }
}

/** The attribute pads of an opset < 11 Pad, or its constant pads input; null if not known at load time. */
export function constantPads(node: Parameters<OpDef["compile"]>[0], inputs: readonly (ValueType | undefined)[]): null {
  void node; void inputs;
  return null;
}
