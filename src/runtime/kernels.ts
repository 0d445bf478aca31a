import { readFile } from "node:fs/promises";
import { DenseNetError } from "../errors.js";
import { OP_KERNELS, type OpKernel, type OpKernelName } from "../kernels/op_kernels.js";
import type { WeightTransforms } from "../plan/op_def.js";
import type { KernelTable } from "./executor.js";
import { packageFile } from "../package_files.js";

/** What the kernel module exports (assembly/index.ts): every op kernel of OP_KERNELS, and these. */
export type KernelExports = { readonly [K in OpKernelName]: OpKernel } & KernelHelpers & WeightTransforms;

interface KernelHelpers {
  conv2d_gemm_scratch_bytes(kc: number): number;
  conv2d_winograd_scratch_bytes(maxCin: number): number;
  conv2d_winograd_f4x4_scratch_bytes(maxCin: number): number;
  gemm_f32_4x8(a: number, b: number, c: number, ldc: number, kc: number, bias: number, flags: number): void;
  gemm_f32_4x8_shuffle(a: number, b: number, c: number, ldc: number, kc: number, bias: number, flags: number): void;
  gemm_f32_6x8(a: number, b: number, c: number, ldc: number, kc: number, bias: number, flags: number): void;
}

/** The op kernels of an instance on `memory`, indexed by id: what the executor runs schedules with. */
export function kernelTable(memory: WebAssembly.Memory, kernels: KernelExports): KernelTable {
  return { memory, kernels: OP_KERNELS.map((name) => kernels[name]) };
}

const BASELINE_URL = packageFile("build/kernels.wasm");
const RELAXED_URL = packageFile("build/kernels.relaxed.wasm");

/** Which build of the kernels this process runs. */
export type KernelBuild = "relaxed-simd" | "simd";

// (module (func (result v128) v128.const i32x4 0 0 0 0)): the smallest module using SIMD.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 11,
]);

let compiled: Promise<{ module: WebAssembly.Module; build: KernelBuild }> | null = null;

async function readBytes(url: URL): Promise<Uint8Array<ArrayBuffer>> {
  try {
    const file = await readFile(url);
    return new Uint8Array(file.buffer as ArrayBuffer, file.byteOffset, file.byteLength);
  } catch {
    throw new DenseNetError(`kernel module ${url.pathname} is missing: run 'npm run build'`);
  }
}

/**
 * Node 20's V8 has relaxed SIMD behind a flag; setting it before compiling works, and
 * worker threads inherit it. Deno 2 and Node >= 22 have it on already.
 */
async function enableRelaxedSimd(): Promise<void> {
  try {
    const v8 = await import("node:v8");
    v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
  } catch {
    // An engine without node:v8: the baseline build runs.
  }
}

/**
 * Compiles the kernels once per process (workers receive the compiled module): the
 * relaxed-SIMD build (fused multiply-add) where the engine validates it, else the baseline
 * SIMD build. DENSENET_KERNELS=simd forces the baseline.
 */
export function compileKernels(): Promise<{ module: WebAssembly.Module; build: KernelBuild }> {
  compiled ??= (async () => {
    if (typeof SharedArrayBuffer === "undefined") {
      throw new DenseNetError("this JavaScript engine has no SharedArrayBuffer; densenet-wasm needs WebAssembly threads (shared memory)");
    }
    if (!WebAssembly.validate(SIMD_PROBE)) {
      throw new DenseNetError("this JavaScript engine does not support WebAssembly SIMD (v128), which densenet-wasm requires");
    }
    if (globalThis.process?.env?.DENSENET_KERNELS !== "simd") {
      const relaxed = await readBytes(RELAXED_URL);
      if (!WebAssembly.validate(relaxed)) await enableRelaxedSimd();
      if (WebAssembly.validate(relaxed)) return { module: await WebAssembly.compile(relaxed), build: "relaxed-simd" as const };
    }
    return { module: await WebAssembly.compile(await readBytes(BASELINE_URL)), build: "simd" as const };
  })();
  return compiled;
}

/** Instantiates the kernels on a shared memory (cheap: the module holds no data segments). */
export function instantiateKernels(module: WebAssembly.Module, memory: WebAssembly.Memory): KernelExports {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  return instance.exports as unknown as KernelExports;
}
