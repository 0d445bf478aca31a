// Packing weight matrices into the GEMM's A panels, and checking weights for non-finite
// values, once per session while the weights are packed. The same layout and values as
// src/plan/panels.ts packPanels and src/tensor.ts firstNonFinite (the references and the
// fallbacks, test/weight_panels.test.mjs); here the loops are compiled ahead instead of
// warming up a JIT on ~8M floats once.

/**
 * Packs W (m, k) into ceil(m/mr) panels of [k][mr], in place: `buf` holds W row-major and is
 * the panels' area (ceil(m/mr) * k * mr floats, zeroed past m * k). Element (o, c) goes to
 * buf + 4 * (floor(o / mr) * k * mr + c * mr + o % mr). A panel's rows are exactly its own
 * area in both layouts, so each is copied to `scratch` (mr * k floats) and packed back; the
 * last panel's missing rows become 0. Where `scale` is not 0, row o is multiplied by the f32
 * at scale + 4o on the way (a BN folded into the conv: one f32 product, as
 * foldAffineIntoWeight rounds it).
 */
export function pack_panels_in_place_f32(buf: usize, m: i32, k: i32, mr: i32, scale: usize, scratch: usize): void {
  const blocks = (m + mr - 1) / mr;
  const rowBytes = <usize>k << 2;
  const panelBytes = <usize>mr * rowBytes;
  for (let b = 0; b < blocks; b++) {
    const r0 = b * mr;
    const rows = min(mr, m - r0);
    const dst = buf + <usize>b * panelBytes;
    memory.copy(scratch, dst, <usize>rows * rowBytes);
    const s: usize = scale == 0 ? 0 : scale + (<usize>r0 << 2);
    if (mr == 4 && rows == 4) {
      pack4Rows(dst, scratch, rowBytes, k, s);
      continue;
    }
    if (rows < mr) memory.fill(dst, 0, panelBytes);
    for (let r = 0; r < rows; r++) {
      const f: f32 = s == 0 ? 1 : load<f32>(s + (<usize>r << 2));
      const row = scratch + <usize>r * rowBytes;
      for (let c = 0; c < k; c++) {
        let v = load<f32>(row + (<usize>c << 2));
        if (s != 0) v *= f;
        store<f32>(dst + (<usize>(c * mr + r) << 2), v);
      }
    }
  }
}

/** One whole 4-row panel: 4 columns of the 4 rows at a time, transposed by shuffles. */
function pack4Rows(dst: usize, src: usize, rowBytes: usize, k: i32, scale: usize): void {
  const scaled = scale != 0;
  const s0 = scaled ? v128.load32_splat(scale) : f32x4.splat(1);
  const s1 = scaled ? v128.load32_splat(scale, 4) : f32x4.splat(1);
  const s2 = scaled ? v128.load32_splat(scale, 8) : f32x4.splat(1);
  const s3 = scaled ? v128.load32_splat(scale, 12) : f32x4.splat(1);
  let c = 0;
  for (; c + 4 <= k; c += 4) {
    const at = src + (<usize>c << 2);
    let a = v128.load(at), b = v128.load(at + rowBytes), e = v128.load(at + 2 * rowBytes), f = v128.load(at + 3 * rowBytes);
    if (scaled) {
      a = f32x4.mul(a, s0); b = f32x4.mul(b, s1); e = f32x4.mul(e, s2); f = f32x4.mul(f, s3);
    }
    // rows (a, b, e, f) x columns c..c+3 -> columns x rows
    const ab0 = v128.shuffle<f32>(a, b, 0, 4, 1, 5), ef0 = v128.shuffle<f32>(e, f, 0, 4, 1, 5);
    const ab1 = v128.shuffle<f32>(a, b, 2, 6, 3, 7), ef1 = v128.shuffle<f32>(e, f, 2, 6, 3, 7);
    const o = dst + (<usize>c << 4);
    v128.store(o, v128.shuffle<f32>(ab0, ef0, 0, 1, 4, 5));
    v128.store(o, v128.shuffle<f32>(ab0, ef0, 2, 3, 6, 7), 16);
    v128.store(o, v128.shuffle<f32>(ab1, ef1, 0, 1, 4, 5), 32);
    v128.store(o, v128.shuffle<f32>(ab1, ef1, 2, 3, 6, 7), 48);
  }
  for (; c < k; c++) {
    const at = src + (<usize>c << 2), o = dst + (<usize>c << 4);
    for (let r = 0; r < 4; r++) {
      let v = load<f32>(at + <usize>r * rowBytes);
      if (scaled) v *= load<f32>(scale + (<usize>r << 2));
      store<f32>(o + (<usize>r << 2), v);
    }
  }
}

/** The index of the first NaN or infinity among the n f32 at `data`, or -1 where there is none. */
export function first_non_finite_f32(data: usize, n: i32): i32 {
  const inf = f32x4.splat(Infinity);
  let i = 0;
  // 16 values per test: |v| < inf is false exactly for NaN and +-inf
  for (; i + 16 <= n; i += 16) {
    const p = data + (<usize>i << 2);
    const ok = v128.and(
      v128.and(f32x4.lt(f32x4.abs(v128.load(p)), inf), f32x4.lt(f32x4.abs(v128.load(p, 16)), inf)),
      v128.and(f32x4.lt(f32x4.abs(v128.load(p, 32)), inf), f32x4.lt(f32x4.abs(v128.load(p, 48)), inf)),
    );
    if (!i32x4.all_true(ok)) break;
  }
  for (; i < n; i++) {
    const v = load<f32>(data + (<usize>i << 2));
    if (!(Mathf.abs(v) < Infinity)) return i;
  }
  return -1;
}
