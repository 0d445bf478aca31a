// The weight transform of Winograd F(4x4, 3x3) (the kernel: assembly/conv2d_winograd.ts, with
// B^T and A^T in conv2d_winograd_f4x4_f32.ts): U = G g G^T for every (output, input) channel
// pair, with Lavin & Gray's G for the interpolation points 0, 1, -1, 2, -2 and infinity.

/** G (6 x 3), row-major. Its entries 1/6, 1/12, 1/24 are not exact in binary: U is computed in f64 and rounded once. */
export const G4 = Float64Array.of(
  ...[1 / 4, 0, 0],
  ...[-1 / 6, -1 / 6, -1 / 6],
  ...[-1 / 6, 1 / 6, -1 / 6],
  ...[1 / 24, 1 / 12, 1 / 6],
  ...[1 / 24, -1 / 12, 1 / 6],
  ...[0, 0, 1],
);

/**
 * Writes the 36 transformed weight matrices U_xi[o][c] = (G g_oc G^T)[i][j], xi = 6i + j,
 * computed in f64 from the (Cout, Cin, 3, 3) weights, straight into their packed panels:
 * `out` holds WINO4_XI = 36 runs of `length` floats (zeroed), U_xi packed as packPanels packs a (Cout,
 * Cin) matrix into rows of `mr`.
 */
export function packWinograd4Weights(out: Float32Array, length: number, weight: Float32Array, cout: number, cin: number, mr: number): void {
  const gg = new Float64Array(18); // G g, 6 x 3
  for (let o = 0; o < cout; o++) {
    // packPanels' index of (row o, column c): panel o / mr, then [c][o % mr].
    const rowBase = Math.floor(o / mr) * cin * mr + (o % mr);
    for (let c = 0; c < cin; c++) {
      const g = (o * cin + c) * 9; // g_oc is weight[g .. g + 9), row-major 3x3
      for (let i = 0; i < 6; i++) {
        const a = G4[3 * i],
          b = G4[3 * i + 1],
          e = G4[3 * i + 2];
        for (let l = 0; l < 3; l++) gg[3 * i + l] = a * weight[g + l] + b * weight[g + 3 + l] + e * weight[g + 6 + l];
      }
      const at = rowBase + c * mr;
      for (let i = 0; i < 6; i++) {
        const p = gg[3 * i],
          q = gg[3 * i + 1],
          r = gg[3 * i + 2];
        for (let j = 0; j < 6; j++) out[(6 * i + j) * length + at] = p * G4[3 * j] + q * G4[3 * j + 1] + r * G4[3 * j + 2];
      }
    }
  }
}
