import { DenseNetError } from "../errors.js";

const PAGE_BYTES = 65536;
/** wasm32's ceiling: 4 GiB. */
export const MAX_PAGES = 65536;

/**
 * The one shared linear memory the kernels run on, with a bump allocator: weights, kernel
 * descriptors, arenas and scratch are allocated once at planning time and never freed
 * (the whole memory goes with its session). Address 0 stays unused so 0 can mean "absent".
 */
export class LinearMemory {
  readonly memory: WebAssembly.Memory;
  private top = 1024;

  constructor(initialPages = 16) {
    this.memory = new WebAssembly.Memory({ initial: initialPages, maximum: MAX_PAGES, shared: true });
  }

  /** Bytes in use. */
  get used(): number {
    return this.top;
  }

  /** Reserves `bytes` at an `align`-byte boundary (growing the memory) and returns the address. */
  alloc(bytes: number, align = 64): number {
    const start = Math.ceil(this.top / align) * align;
    const end = start + bytes;
    const pages = this.memory.buffer.byteLength / PAGE_BYTES;
    const needed = Math.ceil(end / PAGE_BYTES);
    if (needed > MAX_PAGES) {
      throw new DenseNetError(`out of memory: the model and plan need ${(end / 2 ** 20).toFixed(0)} MiB, more than WebAssembly's 4096 MiB`);
    }
    if (needed > pages) {
      try {
        this.memory.grow(needed - pages);
      } catch {
        throw new DenseNetError(`out of memory: could not grow WebAssembly memory to ${(end / 2 ** 20).toFixed(0)} MiB`);
      }
    }
    this.top = end;
    return start;
  }

  /** Copies `data` into a fresh allocation and returns its address. */
  allocF32(data: Float32Array): number {
    const ptr = this.alloc(data.byteLength);
    this.f32(ptr, data.length).set(data);
    return ptr;
  }

  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, length);
  }

  u32(ptr: number, length: number): Uint32Array {
    return new Uint32Array(this.memory.buffer, ptr, length);
  }
}
