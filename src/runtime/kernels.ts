import { readFile } from "node:fs/promises";
import { DenseNetError } from "../errors.js";

/** Every op kernel's signature: (descriptor, arena base, scratch, ith, nth); see assembly/index.ts. */
export type OpKernel = (desc: number, base: number, scratch: number, ith: number, nth: number) => void;

/** What the kernel module exports (assembly/index.ts). */
export interface KernelExports {
  conv2d_gemm_f32: OpKernel;
  pool2d_nchw_f32: OpKernel;
  global_pool_f32: OpKernel;
  linear_f32: OpKernel;
  conv2d_gemm_scratch_bytes(kc: number): number;
  gemm_f32_4x8(a: number, b: number, c: number, ldc: number, kc: number, bias: number, flags: number): void;
  gemm_f32_6x8(a: number, b: number, c: number, ldc: number, kc: number, bias: number, flags: number): void;
}

/** The op kernels, in the order of their ids in a schedule table. */
export const OP_KERNELS = ["conv2d_gemm_f32", "pool2d_nchw_f32", "global_pool_f32", "linear_f32"] as const;
export type OpKernelName = (typeof OP_KERNELS)[number];

/** The op kernels of an instance, indexed by id. */
export function opKernelTable(kernels: KernelExports): OpKernel[] {
  return OP_KERNELS.map((name) => kernels[name]);
}

const KERNELS_URL = new URL("../../build/kernels.wasm", import.meta.url);

// (module (func (result v128) v128.const i32x4 0 0 0 0)): the smallest module using SIMD.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11,
]);

let compiled: Promise<WebAssembly.Module> | null = null;

/** Compiles build/kernels.wasm once per process (workers receive the compiled module). */
export function compileKernels(): Promise<WebAssembly.Module> {
  compiled ??= (async () => {
    if (typeof SharedArrayBuffer === "undefined") {
      throw new DenseNetError("this JavaScript engine has no SharedArrayBuffer; densenet-wasm needs WebAssembly threads (shared memory)");
    }
    if (!WebAssembly.validate(SIMD_PROBE)) {
      throw new DenseNetError("this JavaScript engine does not support WebAssembly SIMD (v128), which densenet-wasm requires");
    }
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      const file = await readFile(KERNELS_URL);
      bytes = new Uint8Array(file.buffer as ArrayBuffer, file.byteOffset, file.byteLength);
    } catch {
      throw new DenseNetError(`kernel module ${KERNELS_URL.pathname} is missing: run 'npm run build'`);
    }
    return WebAssembly.compile(bytes);
  })();
  return compiled;
}

/** Instantiates the kernels on a shared memory (cheap: the module holds no data segments). */
export function instantiateKernels(module: WebAssembly.Module, memory: WebAssembly.Memory): KernelExports {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  return instance.exports as unknown as KernelExports;
}
