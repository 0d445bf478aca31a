// The WebAssembly reader of JSON number runs (assembly/json_f32.ts, build/json_f32.wasm) as the
// JSON parser uses it: one instance per process on its own small memory (192 KB), loaded
// on first use; the module's contract is at the top of its source.
import { readFileSync } from "node:fs";
import { packageFile } from "../package_files.js";

interface Exports {
  memory: WebAssembly.Memory;
  STOP_FULL: WebAssembly.Global;
  STOP_NO_COMMA: WebAssembly.Global;
  STOP_ONE: WebAssembly.Global;
  WINDOW_BYTES: WebAssembly.Global;
  WINDOW_PAD: WebAssembly.Global;
  OUT_CAPACITY: WebAssembly.Global;
  POW10_COUNT: WebAssembly.Global;
  pow10Pointer(): number;
  windowPointer(): number;
  outPointer(): number;
  stopPosition(): number;
  stopReason(): number;
  run(len: number, last: number, cap: number): number;
}

/** Why a run stopped (the module's STOP_* values). */
export enum RunStop {
  /** as many numbers as asked for were written */
  Full = 0,
  /** after a number and its whitespace, at a byte that is not a comma */
  NoComma = 1,
  /** at an element the caller must read itself, from its text (it may reach past the window) */
  One = 2,
}

export class NumberRunReader {
  /** The largest window one run reads. */
  readonly maxWindow: number;
  private readonly window: Uint8Array;
  private readonly pad: number;
  private readonly out: Float32Array;
  /** Where the last run stopped, relative to its `from`, and why. */
  stoppedAt = 0;
  stopped = RunStop.Full;
  /** Bytes copied into the module's window so far (tests bound it). */
  copiedBytes = 0;

  private constructor(private readonly x: Exports) {
    for (const [k, v] of [
      [x.STOP_FULL, RunStop.Full],
      [x.STOP_NO_COMMA, RunStop.NoComma],
      [x.STOP_ONE, RunStop.One],
    ] as const)
      if (k.value !== v) throw new Error("build/json_f32.wasm does not match src/serve/json_number_run.ts: rebuild");
    this.maxWindow = x.WINDOW_BYTES.value;
    const buffer = x.memory.buffer;
    // the powers of ten as Number("1eK") and Number("1e-K") give them (correctly rounded),
    // which the module's exactness rests on
    const count = x.POW10_COUNT.value;
    const pow10 = new Float64Array(buffer, x.pow10Pointer(), 2 * count);
    for (let k = 0; k < count; k++) {
      pow10[k] = Number(`1e${k}`);
      pow10[count + k] = Number(`1e-${k}`);
    }
    this.pad = x.WINDOW_PAD.value;
    this.window = new Uint8Array(buffer, x.windowPointer(), this.maxWindow + this.pad);
    this.out = new Float32Array(buffer, x.outPointer(), x.OUT_CAPACITY.value);
  }

  private static loaded: NumberRunReader | null | undefined;

  /** The process's reader, or null where the module cannot be loaded (the caller then reads every number from its text). */
  static get(): NumberRunReader | null {
    if (NumberRunReader.loaded === undefined) {
      try {
        const bytes = readFileSync(packageFile("build/json_f32.wasm"));
        NumberRunReader.loaded = new NumberRunReader(new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as unknown as Exports);
      } catch {
        NumberRunReader.loaded = null;
      }
    }
    return NumberRunReader.loaded;
  }

  /**
   * Reads the number run at bytes[from] within the window [from, from + windowBytes) (cut at
   * the end of bytes; windowBytes <= maxWindow) into out from index n, at most `cap` numbers;
   * returns the count written; stoppedAt and stopped say where (relative to from) and why.
   */
  run(bytes: Uint8Array, from: number, windowBytes: number, out: Float32Array, n: number, cap: number): number {
    const len = Math.min(windowBytes, bytes.length - from);
    if (len <= 256)
      for (let k = 0; k < len; k++) this.window[k] = bytes[from + k]; // no view object for short runs
    else this.window.set(bytes.subarray(from, from + len));
    this.copiedBytes += len;
    this.window.fill(0, len, len + this.pad);
    const count = this.x.run(len, from + len === bytes.length ? 1 : 0, Math.min(cap, this.out.length));
    out.set(this.out.subarray(0, count), n);
    this.stoppedAt = this.x.stopPosition();
    this.stopped = this.x.stopReason();
    return count;
  }
}
