// A JPEG decoder for 4-component (CMYK, YCCK) JPEGs, which @jsquash/jpeg refuses. It repeats
// libjpeg-turbo 2.1's integer arithmetic (Pillow 9.4's decoder) step for step, so the pixels
// are bitwise Pillow's: Huffman decoding (baseline and progressive, restart intervals), the
// "islow" integer IDCT (jidctint.c) with its range-limit table, "fancy" upsampling of
// subsampled components (jdsample.c), YCCK->CMYK (jdcolor.c) when the Adobe marker says so,
// and Pillow's "CMYK;I" rawmode (Adobe polarity: every sample inverted).
import { DenseNetError } from "../errors.js";
import { skipEntropyCodedData, type JpegInfo } from "./header.js";
import { idctPlane, upsample, yccToCmyk } from "./jpeg_pixels.js";
import { buildHuffman, decodeScan, NATURAL, type Component, type Huffman } from "./jpeg_scan.js";
import type { DecodedImage8 } from "./types.js";

/** Decodes a 4-component JPEG to Pillow's "CMYK" pixels. `info` comes from readJpegInfo. */
export async function decodeJpegCmyk(bytes: Uint8Array, info: JpegInfo, name: string): Promise<DecodedImage8> {
  const corrupt = (why: string) => new DenseNetError(`${name}: corrupt JPEG (${why})`);
  const { width, height } = info;
  const hmax = Math.max(...info.components.map((c) => c.h));
  const vmax = Math.max(...info.components.map((c) => c.v));
  const mcusPerLine = Math.ceil(width / (8 * hmax));
  const mcusPerColumn = Math.ceil(height / (8 * vmax));
  const components: Component[] = info.components.map((c) => {
    const downW = Math.ceil((width * c.h) / hmax);
    const downH = Math.ceil((height * c.v) / vmax);
    const blocksPerLine = mcusPerLine * c.h;
    const blocksPerColumn = mcusPerColumn * c.v;
    return {
      ...c,
      blocksPerLine,
      blocksPerColumn,
      downW,
      downH,
      ownBlocksPerLine: Math.ceil(downW / 8),
      ownBlocksPerColumn: Math.ceil(downH / 8),
      coefs: new Int16Array(blocksPerLine * blocksPerColumn * 64),
      pred: 0,
      dc: null,
      ac: null,
    };
  });
  const quant: (Int32Array | null)[] = [null, null, null, null];
  const dcTables: (Huffman | null)[] = [null, null, null, null];
  const acTables: (Huffman | null)[] = [null, null, null, null];
  let restartInterval = 0;
  const u16 = (i: number) => (bytes[i] << 8) | bytes[i + 1];

  let i = 2;
  for (;;) {
    while (bytes[i] === 0xff) i++;
    const marker = bytes[i++];
    if (marker === 0xd9) break;
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue;
    const end = i + u16(i);
    let p = i + 2;
    if (marker === 0xdb) {
      // DQT
      while (p < end) {
        const pq = bytes[p] >> 4;
        const tq = bytes[p] & 15;
        if (tq > 3) throw corrupt(`quantization table ${tq}`);
        p++;
        const table = new Int32Array(64);
        for (let k = 0; k < 64; k++) {
          table[NATURAL[k]] = pq ? u16(p + 2 * k) : bytes[p + k];
        }
        p += pq ? 128 : 64;
        quant[tq] = table;
      }
    } else if (marker === 0xc4) {
      // DHT
      while (p < end) {
        const tc = bytes[p] >> 4;
        const th = bytes[p] & 15;
        if (th > 3 || tc > 1) throw corrupt(`Huffman table class ${tc} id ${th}`);
        const counts = bytes.subarray(p + 1, p + 17);
        const total = counts.reduce((a, b) => a + b, 0);
        const values = bytes.slice(p + 17, p + 17 + total);
        if (total > 256 || p + 17 + total > end) throw corrupt("Huffman table overruns its segment");
        (tc === 0 ? dcTables : acTables)[th] = buildHuffman(counts, values);
        p += 17 + total;
      }
    } else if (marker === 0xdd) {
      // DRI
      restartInterval = u16(p);
    } else if (marker === 0xda) {
      // SOS
      const count = bytes[p];
      const scan: Component[] = [];
      for (let k = 0; k < count; k++) {
        const id = bytes[p + 1 + 2 * k];
        const tables = bytes[p + 2 + 2 * k];
        const c = components.find((x) => x.id === id);
        if (!c) throw corrupt(`scan names component ${id}, which the frame lacks`);
        c.dc = dcTables[tables >> 4] ?? null;
        c.ac = acTables[tables & 15] ?? null;
        scan.push(c);
      }
      const q = p + 1 + 2 * count;
      const ss = bytes[q];
      const se = bytes[q + 1];
      const ah = bytes[q + 2] >> 4;
      const al = bytes[q + 2] & 15;
      decodeScan(bytes, end, scan, info.process === 2, ss, se, ah, al, restartInterval, mcusPerLine, mcusPerColumn, corrupt);
      i = skipEntropyCodedData(bytes, end);
      continue;
    }
    i = end;
  }

  // IDCT every block into a plane per component, then upsample, convert and invert.
  const planes = components.map((c) => {
    const q = quant[c.tq];
    if (!q) throw corrupt(`component ${c.id} uses quantization table ${c.tq}, which is not defined`);
    return idctPlane(c, q);
  });
  const full = components.map((c, k) => upsample(planes[k], c, hmax, vmax, width, height, name));
  const pixels = width * height;
  const out = new Uint8Array(pixels * 4);
  const transform = info.adobeTransform;
  if (transform !== null && transform !== 0) yccToCmyk(full, out, pixels);
  else for (let p = 0; p < pixels; p++) for (let c = 0; c < 4; c++) out[4 * p + c] = full[c][p];
  for (let k = 0; k < out.length; k++) out[k] = 255 - out[k]; // Pillow's "CMYK;I"
  return { width, height, mode: "CMYK", data: out };
}
