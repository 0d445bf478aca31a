// Concat along any axis, float32 or int64.
import { type Dim, formatShape, normalizeAxis } from "../shape.js";
import { type OnnxTensor, emptyTensor } from "../tensor.js";
import { type OpDef, type ValueType, dimsOf, nodeCheck } from "./types.js";
import { elementCount } from "../../tensor.js";

export const concat: OpDef = {
  attributes: ["axis"],
  inputs: [1, Infinity],
  outputs: [1, 1],
  compile(node, attrs) {
    const axisAttr = attrs.int("axis");
    return {
      infer(inputs) {
        const values = inputs as ValueType[];
        nodeCheck(
          node,
          values.every((v) => v !== undefined),
          "inputs may not be omitted",
        );
        const type = values[0].type;
        nodeCheck(
          node,
          values.every((v) => v.type === type),
          "inputs must all have the same element type",
        );
        const shapes = values.map((v) => v.shape);
        const known = shapes.find((s) => s !== null);
        if (!known) return [{ type, shape: null }];
        const rank = known.length;
        const axis = normalizeAxis(axisAttr, rank);
        nodeCheck(node, axis !== null, () => `axis ${axisAttr} is out of range for rank ${rank}`);
        const out: Dim[] = [...known];
        let total: Dim = 0;
        shapes.forEach((s, i) => {
          if (s === null) {
            total = null;
            return;
          }
          nodeCheck(node, s.length === rank, () => `input ${i} has rank ${s.length}, input 0 has rank ${rank}`);
          s.forEach((d, j) => {
            if (j === axis) return;
            if (out[j] === null) out[j] = d;
            else
              nodeCheck(
                node,
                d === null || d === out[j],
                () => `input ${i} has shape ${formatShape(s)}, which differs from ${formatShape(known)} off axis ${axis}`,
              );
          });
          total = total === null || s[axis] === null ? null : total + s[axis]!;
        });
        out[axis] = total;
        return [{ type, shape: out }];
      },
      run(inputs, [outType]) {
        const dims = dimsOf(outType);
        const axis = normalizeAxis(axisAttr, dims.length)!;
        const out = emptyTensor(outType.type, dims);
        const outer = elementCount(dims.slice(0, axis));
        const rowOut = elementCount(dims.slice(axis));
        let at = 0;
        for (const t of inputs as OnnxTensor[]) {
          const row = elementCount(t.dims.slice(axis));
          for (let o = 0; o < outer; o++) {
            (out.data as Float32Array).set((t.data as Float32Array).subarray(o * row, (o + 1) * row), o * rowOut + at);
          }
          at += row;
        }
        return [out];
      },
    };
  },
};
