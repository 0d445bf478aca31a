// Naive float64 references for the kernels, with an error bound for float32 evaluation:
// a sum of n terms computed in float32 in any order is within (n + 3) * u * sum|terms| of the
// exact value (u = 2^-24; +3 covers rounding the products, the pre-activation and the bias).
import { U32 } from "./helpers.mjs";

const fround = Math.fround;

function preActivate(v, pre, c) {
  if (!pre) return v;
  const y = fround(fround(v * pre.scale[c]) + pre.shift[c]);
  return pre.relu && y < 0 ? 0 : y;
}

function outSize(size, k, s, p0, p1, d, ceil = false) {
  const span = size + p0 + p1 - d * (k - 1) - 1;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= size + p0) out--;
  return out;
}

/** op: a ConvOp of the graph IR; x: (C, H, W). Returns { data, bound, oh, ow }. */
export function convReference(op, x, h, w) {
  const [kh, kw] = op.kernel,
    [sh, sw] = op.stride,
    [pt, pl, pb, pr] = op.pads,
    [dh, dw] = op.dilation;
  const oh = outSize(h, kh, sh, pt, pb, dh),
    ow = outSize(w, kw, sw, pl, pr, dw);
  const k = op.inChannels * kh * kw;
  const data = new Float64Array(op.outChannels * oh * ow),
    bound = new Float64Array(data.length);
  for (let o = 0; o < op.outChannels; o++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const b = op.bias ? op.bias[o] : 0;
        let sum = b,
          abs = Math.abs(b);
        for (let c = 0; c < op.inChannels; c++) {
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * sh - pt + ky * dh;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * sw - pl + kx * dw;
              if (ix < 0 || ix >= w) continue;
              const v = preActivate(x[(c * h + iy) * w + ix], op.pre, c);
              const t = op.weight[((o * op.inChannels + c) * kh + ky) * kw + kx] * v;
              sum += t;
              abs += Math.abs(t);
            }
          }
        }
        const i = (o * oh + oy) * ow + ox;
        data[i] = op.relu && sum < 0 ? 0 : sum;
        bound[i] = (k + 3) * U32 * abs;
      }
    }
  }
  return { data, bound, oh, ow };
}

/** op: a PoolOp; x: (C, H, W). */
export function poolReference(op, x, h, w) {
  const [kh, kw] = op.kernel,
    [sh, sw] = op.stride,
    [pt, pl, pb, pr] = op.pads,
    [dh, dw] = op.dilation;
  const oh = outSize(h, kh, sh, pt, pb, dh, op.ceilMode),
    ow = outSize(w, kw, sw, pl, pr, dw, op.ceilMode);
  const data = new Float64Array(op.channels * oh * ow),
    bound = new Float64Array(data.length);
  for (let c = 0; c < op.channels; c++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let acc = op.mode === "max" ? -Infinity : 0,
          abs = 0,
          inside = 0,
          padded = 0;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - pt + ky * dh;
          if (iy >= h + pb) break;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - pl + kx * dw;
            if (ix >= w + pr) break;
            padded++;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            const v = preActivate(x[(c * h + iy) * w + ix], op.pre, c);
            acc = op.mode === "max" ? Math.max(acc, v) : acc + v;
            abs += Math.abs(v);
            inside++;
          }
        }
        const i = (c * oh + oy) * ow + ox;
        const n = op.countIncludePad ? padded : inside;
        data[i] = op.mode === "max" ? acc : acc / n;
        bound[i] = op.mode === "max" ? 0 : ((inside + 3) * U32 * abs) / n;
      }
    }
  }
  return { data, bound, oh, ow };
}

/** op: a GlobalPoolOp; x: (C, HW). */
export function globalPoolReference(op, x, hw) {
  const data = new Float64Array(op.channels),
    bound = new Float64Array(op.channels);
  for (let c = 0; c < op.channels; c++) {
    let acc = op.mode === "max" ? -Infinity : 0,
      abs = 0;
    for (let i = 0; i < hw; i++) {
      const v = preActivate(x[c * hw + i], op.pre, c);
      acc = op.mode === "max" ? Math.max(acc, v) : acc + v;
      abs += Math.abs(v);
    }
    data[c] = op.mode === "max" ? acc : acc / hw;
    bound[c] = op.mode === "max" ? 0 : ((hw + 3) * U32 * abs) / hw;
  }
  return { data, bound };
}

/** op: a LinearOp; x: (K). */
export function linearReference(op, x) {
  const data = new Float64Array(op.outFeatures),
    bound = new Float64Array(op.outFeatures);
  for (let r = 0; r < op.outFeatures; r++) {
    let sum = op.bias ? op.bias[r] : 0,
      abs = Math.abs(sum);
    for (let i = 0; i < op.inFeatures; i++) {
      const t = op.weight[r * op.inFeatures + i] * x[i];
      sum += t;
      abs += Math.abs(t);
    }
    data[r] = sum;
    bound[r] = (op.inFeatures + 3) * U32 * abs;
  }
  return { data, bound };
}

/**
 * A bound on the float32 error of Winograd F(2x2, 3x3) for a 3x3 pad-1 conv (op) at each
 * output: with S = sum over channels of sum|g_oc| * sum|d_c| over the output's 4x4 input
 * patch (pre-activated, zero-padded), the transforms' roundings and the K-term sums of the
 * 16 products stay within 9 (K + 10) u S (|G|, |B|, |A| entries are at most 1, and each
 * output sums 9 of the 16 products).
 */
export function winogradBound(op, x, h, w) {
  const k = op.inChannels;
  const out = new Float64Array(op.outChannels * h * w);
  const gsum = new Float64Array(op.outChannels * k);
  for (let o = 0; o < op.outChannels; o++) {
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let t = 0; t < 9; t++) s += Math.abs(op.weight[(o * k + c) * 9 + t]);
      gsum[o * k + c] = s;
    }
  }
  for (let oy = 0; oy < h; oy++) {
    for (let ox = 0; ox < w; ox++) {
      const y0 = 2 * Math.floor(oy / 2) - 1,
        x0 = 2 * Math.floor(ox / 2) - 1;
      const dsum = new Float64Array(k);
      for (let c = 0; c < k; c++) {
        for (let y = y0; y < y0 + 4; y++) {
          for (let xx = x0; xx < x0 + 4; xx++) {
            if (y >= 0 && y < h && xx >= 0 && xx < w) dsum[c] += Math.abs(preActivate(x[(c * h + y) * w + xx], op.pre, c));
          }
        }
      }
      for (let o = 0; o < op.outChannels; o++) {
        let s = 0;
        for (let c = 0; c < k; c++) s += gsum[o * k + c] * dsum[c];
        out[(o * h + oy) * w + ox] = 9 * (k + 10) * U32 * s + (k + 3) * U32 * Math.abs(op.bias ? op.bias[o] : 0);
      }
    }
  }
  return out;
}

// Winograd F(4x4, 3x3)'s matrices (assembly/conv2d_winograd_f4x4_f32.ts, plan/winograd_f4x4.ts), in absolute value.
const BT4_ABS = [
  [4, 0, 5, 0, 1, 0],
  [0, 4, 4, 1, 1, 0],
  [0, 4, 4, 1, 1, 0],
  [0, 2, 1, 2, 1, 0],
  [0, 2, 1, 2, 1, 0],
  [0, 4, 0, 5, 0, 1],
];
const G4_ABS = [
  [1 / 4, 0, 0],
  [1 / 6, 1 / 6, 1 / 6],
  [1 / 6, 1 / 6, 1 / 6],
  [1 / 24, 1 / 12, 1 / 6],
  [1 / 24, 1 / 12, 1 / 6],
  [0, 0, 1],
];
const AT4_ABS = [
  [1, 1, 1, 1, 1, 0],
  [0, 1, 1, 2, 2, 0],
  [0, 1, 1, 4, 4, 0],
  [0, 1, 1, 8, 8, 1],
];

/** |P| X |Q|^T for an r x n matrix P and an n x n (or n x m) X given row-major: (|P| |X|) |Q|^T. */
function absSandwich(p, x, n, q) {
  const rows = p.length,
    cols = q.length,
    mid = new Float64Array(rows * n),
    out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let k = 0; k < n; k++) for (let l = 0; l < n; l++) mid[i * n + l] += p[i][k] * Math.abs(x[k * n + l]);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) for (let l = 0; l < n; l++) out[i * cols + j] += mid[i * n + l] * q[j][l];
  return out;
}

/**
 * A bound on the float32 error of Winograd F(4x4, 3x3) for a 3x3 pad-1 conv (op) at each
 * output. The kernel computes V = B^T d B and A^T M A in factored forms whose intermediates
 * are bounded by |B^T| |d| |B| and |A^T| |M| |A| (2 and 3 roundings deep per side), U = G g G^T
 * in f64 rounded once, and M = sum_c U_c V_c in float32 in any order. To first order the
 * error at output (p, q) of a tile is then within
 *   (K + 20) u  sum_c sum_ij |A^T|_pi |A^T|_qj (|G| |g_oc| |G|^T)_ij (|B^T| |d_c| |B|)_ij
 * (K = input channels; 20 >= 4 (V) + 1 (U) + 1 (products) + 6 (output transform) + 1 (bias),
 * with slack for the second-order terms), plus (K + 3) u |bias|. The weights |A^T|, |B^T| (up
 * to 8 and 5) are what F(4x4) pays for its fewer multiplies. Measured on DenseNet's 128 -> 32
 * convs (He-scaled weights, BN-ReLU'd unit-normal inputs) at 7x7 to 56x56: the error is
 * 0.05-0.1 % of this bound and 3e-6 to 8e-6 of max|y|, where F(2x2) gives 3e-7 to 4e-7.
 */
export function winograd4Bound(op, x, h, w) {
  const k = op.inChannels,
    m = op.outChannels;
  const uAbs = new Float64Array(m * k * 36);
  for (let o = 0; o < m; o++) {
    for (let c = 0; c < k; c++)
      uAbs.set(absSandwich(G4_ABS, op.weight.subarray((o * k + c) * 9, (o * k + c) * 9 + 9), 3, G4_ABS), (o * k + c) * 36);
  }
  const out = new Float64Array(m * h * w);
  const patch = new Float64Array(36),
    vAbs = new Float64Array(k * 36),
    weighted = new Float64Array(36);
  for (let ty = 0; ty < Math.ceil(h / 4); ty++) {
    for (let tx = 0; tx < Math.ceil(w / 4); tx++) {
      for (let c = 0; c < k; c++) {
        for (let r = 0; r < 6; r++) {
          for (let s = 0; s < 6; s++) {
            const y = 4 * ty - 1 + r,
              xx = 4 * tx - 1 + s;
            patch[6 * r + s] = y >= 0 && y < h && xx >= 0 && xx < w ? preActivate(x[(c * h + y) * w + xx], op.pre, c) : 0;
          }
        }
        vAbs.set(absSandwich(BT4_ABS, patch, 6, BT4_ABS), c * 36);
      }
      for (let o = 0; o < m; o++) {
        weighted.fill(0);
        for (let c = 0; c < k; c++) for (let i = 0; i < 36; i++) weighted[i] += uAbs[(o * k + c) * 36 + i] * vAbs[c * 36 + i];
        const sum = absSandwich(AT4_ABS, weighted, 6, AT4_ABS); // 4 x 4: the weighted sum at each (p, q)
        const b = Math.abs(op.bias ? op.bias[o] : 0);
        for (let p = 0; p < 4 && 4 * ty + p < h; p++) {
          for (let q = 0; q < 4 && 4 * tx + q < w; q++) {
            out[(o * h + 4 * ty + p) * w + 4 * tx + q] = (k + 20) * U32 * sum[4 * p + q] + (k + 3) * U32 * b;
          }
        }
      }
    }
  }
  return out;
}
