// Gemm (Y = alpha * A' B' + beta * C, C broadcast to (M, N)) and MatMul (numpy matmul:
// 1-D operands promoted, batch dimensions broadcast). Accumulation in float64.
import { type Tensor, elementCount } from "../../tensor.js";
import { type Dim, type Shape, broadcastShapes, formatShape, sameDim } from "../shape.js";
import { broadcastStrides } from "./elementwise.js";
import { type OpDef, dimsOf, floatInput, floatOut, nodeCheck, shapeOf } from "./types.js";

export const gemm: OpDef = {
  attributes: ["alpha", "beta", "transA", "transB"],
  inputs: [2, 3],
  outputs: [1, 1],
  compile(node, attrs) {
    const alpha = attrs.float("alpha", 1),
      beta = attrs.float("beta", 1);
    const transA = attrs.int("transA", 0) === 1,
      transB = attrs.int("transB", 0) === 1;
    return {
      infer(inputs) {
        const matrix = (i: number) => shapeOf(node, floatInput(node, inputs, i), i, (r) => r === 2, "Gemm needs a 2-D matrix");
        const a = matrix(0),
          b = matrix(1);
        const [m, ka] = a ? (transA ? [a[1], a[0]] : [a[0], a[1]]) : [null, null];
        const [kb, n] = b ? (transB ? [b[1], b[0]] : [b[0], b[1]]) : [null, null];
        nodeCheck(
          node,
          sameDim(ka, kb),
          () => `A ${formatShape(a!)}${transA ? "^T" : ""} and B ${formatShape(b!)}${transB ? "^T" : ""} do not multiply`,
        );
        if (inputs[2]) {
          const c = floatInput(node, inputs, 2).shape;
          nodeCheck(
            node,
            c === null || (c.length <= 2 && broadcastsTo(c, [m, n])),
            () => `C ${formatShape(c!)} does not broadcast to (M, N) = ${formatShape([m, n])}`,
          );
        }
        return [floatOut([m, n])];
      },
      run([aT, bT, cT], [out]) {
        const a = aT as Tensor,
          b = bT as Tensor,
          c = cT as Tensor | undefined;
        const [m, n] = dimsOf(out);
        const k = transA ? a.dims[0] : a.dims[1];
        const y = new Float32Array(m * n);
        const cs = c ? broadcastStrides(c.dims, [m, n]) : [0, 0];
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let acc = 0;
            for (let p = 0; p < k; p++) acc += a.data[transA ? p * m + i : i * k + p] * b.data[transB ? j * k + p : p * n + j];
            y[i * n + j] = alpha * acc + (c ? beta * c.data[i * cs[0] + j * cs[1]] : 0);
          }
        }
        return [{ data: y, dims: [m, n] }];
      },
    };
  },
};

/** True if `shape` can broadcast unidirectionally to `target` (numpy rules, right-aligned). */
function broadcastsTo(shape: Shape, target: Shape): boolean {
  return shape.every((d, i) => d === 1 || sameDim(d, target[target.length - shape.length + i]));
}

export const matmul: OpDef = {
  attributes: [],
  inputs: [2, 2],
  outputs: [1, 1],
  compile(node) {
    return {
      infer(inputs) {
        const a = shapeOf(node, floatInput(node, inputs, 0), 0, (r) => r >= 1, "MatMul needs rank >= 1");
        const b = shapeOf(node, floatInput(node, inputs, 1), 1, (r) => r >= 1, "MatMul needs rank >= 1");
        if (a === null || b === null) return [floatOut(null)];
        const a2 = a.length === 1 ? [1, a[0]] : a,
          b2 = b.length === 1 ? [b[0], 1] : b;
        nodeCheck(
          node,
          sameDim(a2[a2.length - 1], b2[b2.length - 2]),
          () => `shapes ${formatShape(a)} and ${formatShape(b)} do not multiply`,
        );
        const batch = broadcastShapes(a2.slice(0, -2), b2.slice(0, -2));
        nodeCheck(node, batch !== null, () => `batch dimensions of ${formatShape(a)} and ${formatShape(b)} do not broadcast`);
        const dims: Dim[] = [...batch, ...(a.length > 1 ? [a2[a2.length - 2]] : []), ...(b.length > 1 ? [b2[b2.length - 1]] : [])];
        return [floatOut(dims)];
      },
      run([aT, bT]) {
        const a = aT as Tensor,
          b = bT as Tensor;
        const ad = a.dims.length === 1 ? [1, a.dims[0]] : a.dims,
          bd = b.dims.length === 1 ? [b.dims[0], 1] : b.dims;
        const m = ad[ad.length - 2],
          k = ad[ad.length - 1],
          n = bd[bd.length - 1];
        const batch = broadcastShapes(ad.slice(0, -2), bd.slice(0, -2)) as number[];
        const count = elementCount(batch);
        const sa = broadcastStrides(ad.slice(0, -2), batch),
          sb = broadcastStrides(bd.slice(0, -2), batch);
        const y = new Float32Array(count * m * n);
        const index = new Array<number>(batch.length).fill(0);
        for (let t = 0; t < count; t++) {
          let oa = 0,
            ob = 0;
          index.forEach((v, d) => {
            oa += v * sa[d];
            ob += v * sb[d];
          });
          for (let i = 0; i < m; i++) {
            for (let j = 0; j < n; j++) {
              let acc = 0;
              for (let p = 0; p < k; p++) acc += a.data[(oa * m + i) * k + p] * b.data[(ob * k + p) * n + j];
              y[(t * m + i) * n + j] = acc;
            }
          }
          for (let d = batch.length - 1; d >= 0 && ++index[d] === batch[d]; d--) index[d] = 0;
        }
        const dims = [...batch, ...(a.dims.length > 1 ? [m] : []), ...(b.dims.length > 1 ? [n] : [])];
        return [{ data: y, dims }];
      },
    };
  },
};
