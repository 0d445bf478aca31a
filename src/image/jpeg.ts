// JPEG decoding with @jsquash/jpeg (mozjpeg, i.e. libjpeg-turbo's decoder, built to WASM):
// the same islow IDCT, fancy upsampling and YCbCr->RGB tables as Pillow's libjpeg-turbo, so
// the pixels are bitwise Pillow's. The package fetches its .wasm by default; here the bytes
// are read from the package directory and compiled once, so nothing is downloaded.
import { readFile } from "node:fs/promises";
import { DenseNetError } from "../errors.js";
import { decodeJpegCmyk } from "./jpeg_cmyk.js";
import type { JpegInfo } from "./header.js";
import type { DecodedImage8 } from "./types.js";

/** The part of the Emscripten module of mozjpeg_dec that we call. */
interface MozjpegModule {
  decode(data: Uint8Array, preserveOrientation: boolean): { width: number; height: number; data: Uint8ClampedArray } | null;
}
type MozjpegFactory = (options: Record<string, unknown>) => Promise<MozjpegModule>;

let compiled: Promise<WebAssembly.Module> | null = null;
let instance: Promise<MozjpegModule> | null = null;
/** libjpeg's messages (warnings and the fatal error) of the decode in progress. */
let messages: string[] = [];

async function compileModule(): Promise<WebAssembly.Module> {
  const url = new URL("./codec/dec/mozjpeg_dec.wasm", import.meta.resolve("@jsquash/jpeg/decode.js"));
  return WebAssembly.compile(await readFile(url));
}

async function createInstance(): Promise<MozjpegModule> {
  compiled ??= compileModule();
  const wasm = await compiled;
  const factory = (await import("@jsquash/jpeg/codec/dec/mozjpeg_dec.js" as string)).default as MozjpegFactory;
  return factory({
    noInitialRun: true,
    print: () => {},
    printErr: (line: string) => messages.push(line),
    instantiateWasm(imports: WebAssembly.Imports, done: (instance: WebAssembly.Instance) => void) {
      const inst = new WebAssembly.Instance(wasm, imports);
      done(inst);
      return inst.exports;
    },
  });
}

/**
 * Decodes a JPEG whose markers `info` has already checked (see readJpegInfo): 1 component to
 * "L", 3 to "RGB", 4 (CMYK or YCCK) to "CMYK" by our own decoder, which @jsquash/jpeg lacks.
 */
export async function decodeJpeg(bytes: Uint8Array, info: JpegInfo, name: string): Promise<DecodedImage8> {
  if (info.components.length === 4) return decodeJpegCmyk(bytes, info, name);
  instance ??= createInstance();
  const mozjpeg = await instance;
  messages = [];
  let rgba: { width: number; height: number; data: Uint8ClampedArray } | null;
  try {
    rgba = mozjpeg.decode(bytes, true);
  } catch (e) {
    instance = null; // libjpeg's error_exit ended that instance's run: start a fresh one next time
    const why = messages.find((m) => m.trim()) ?? (e instanceof Error ? e.message : String(e));
    throw new DenseNetError(`${name}: cannot decode JPEG (${why.trim()})`);
  }
  if (!rgba) throw new DenseNetError(`${name}: cannot decode JPEG`);
  if (rgba.width !== info.width || rgba.height !== info.height) {
    throw new DenseNetError(`${name}: JPEG decoded to ${rgba.width}×${rgba.height}, its header says ${info.width}×${info.height}`);
  }
  const pixels = info.width * info.height;
  const channels = info.components.length === 1 ? 1 : 3;
  const out = new Uint8Array(pixels * channels);
  const src = rgba.data;
  if (channels === 1) {
    for (let p = 0; p < pixels; p++) out[p] = src[4 * p];
  } else {
    for (let p = 0, o = 0; p < pixels; p++, o += 3) {
      out[o] = src[4 * p];
      out[o + 1] = src[4 * p + 1];
      out[o + 2] = src[4 * p + 2];
    }
  }
  return { width: info.width, height: info.height, mode: channels === 1 ? "L" : "RGB", data: out };
}
