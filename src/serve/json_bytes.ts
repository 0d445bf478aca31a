// A strict JSON parser (RFC 8259) over UTF-8 bytes, for infer request bodies. It gives what
// JSON.parse(utf8 text) gives, with two differences: under a key named in `packedKeys` (a
// tensor's "data"), every number is rounded to float32 as Math.fround(JSON.parse value) would
// be, and an array of only numbers comes back as a Float32Array; and nesting deeper than
// MAX_DEPTH is an error. A 224² image is 150,528 numbers (2.9 MB as clients print float32):
// JSON.parse on the decoded text takes ~14 ms of event-loop time, building a string and a JS
// array; this reads the digits straight from the bytes: number runs in WebAssembly
// (json_number_run.ts) where it loads, else in JavaScript (json_number_text.ts), with the same
// values either way.

import { NumberRunReader, RunStop } from "./json_number_run.js";
import { type NumberCursor, RunEnd, ascii, float32RunFromText, isDigit, isSpace } from "./json_number_text.js";

/** A JSON syntax error; the message names the byte offset. */
export class JsonSyntaxError extends SyntaxError {
  override name = "JsonSyntaxError";
}

/** Valid JSON this parser refuses to hold: more arrays and objects than its size allows. */
export class JsonLimitError extends RangeError {
  override name = "JsonLimitError";
}

const MAX_DEPTH = 512;
/**
 * Arrays and objects allowed per byte of input, beyond a base. Each costs ~50-200 bytes of
 * heap (a packed array is a Float32Array object); a tensor's innermost arrays are its rows,
 * dozens of numbers long, so this never binds on a real request, and it stops a body of
 * "[1],[2],..." from growing the heap ~50x its size.
 */
const CONTAINERS_PER_BYTE = 1 / 32;
const CONTAINERS_BASE = 1024;

const utf8 = new TextDecoder("utf-8");
/**
 * The first window of a number run given to WebAssembly; each next one is twice what the last
 * run read (at least MIN_WINDOW, at most the module's largest), so the bytes copied stay
 * proportional to the bytes read, also when every number is one the module leaves to
 * JavaScript and when a nested tensor's inner arrays are short.
 */
const MIN_WINDOW = 64;

/** For tests and benchmarks: which number-run reader to use, and its largest window. */
export interface JsonBytesOptions {
  /** false: read every number in JavaScript (default true: WebAssembly where it loads) */
  readonly wasm?: boolean;
  /** the largest window of one WebAssembly run, in bytes (default and most: the module's) */
  readonly maxWindow?: number;
}

/** Whether number runs are read in WebAssembly in this process (build/json_f32.wasm loads). */
export function jsonNumbersInWasm(): boolean {
  return NumberRunReader.get() !== null;
}

/** Parses UTF-8 JSON `bytes`; number arrays under any key in `packedKeys` become Float32Arrays. */
export function parseJsonBytes(bytes: Uint8Array, packedKeys: ReadonlySet<string>, options: JsonBytesOptions = {}): unknown {
  const reader = options.wasm === false ? null : NumberRunReader.get();
  const maxWindow = reader ? Math.max(MIN_WINDOW, Math.min(reader.maxWindow, options.maxWindow ?? reader.maxWindow)) : 0;
  const parser = new Parser(bytes, packedKeys, reader, maxWindow);
  parser.skipSpace();
  const value = parser.value(false, 0);
  parser.skipSpace();
  if (parser.i < bytes.length) parser.fail("unexpected data after the JSON value");
  return value;
}

class Parser implements NumberCursor {
  i = 0;
  constructor(
    readonly b: Uint8Array,
    readonly packedKeys: ReadonlySet<string>,
    readonly reader: NumberRunReader | null,
    readonly maxWindow: number,
  ) {
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    this.maxContainers = Math.floor(CONTAINERS_BASE + b.length * CONTAINERS_PER_BYTE);
  }

  readonly view: DataView;
  /** Where a packed array's first numbers go (packedArray). */
  private readonly scratch = new Float32Array(256);
  /** Arrays and objects parsed so far, and how many are allowed. */
  private containers = 0;
  private readonly maxContainers: number;
  /** Why the last float32Run stopped. */
  runEnd = RunEnd.Full;

  fail(what: string): never {
    const at = this.i < this.b.length ? `'${String.fromCharCode(this.b[this.i])}' at byte ${this.i}` : `end of input at byte ${this.i}`;
    throw new JsonSyntaxError(`${what} (${at})`);
  }

  skipSpace(): void {
    const b = this.b;
    let i = this.i;
    while (i < b.length && isSpace(b[i])) i++;
    this.i = i;
  }

  /** A value at this.i (no leading space); `packed`: number arrays become Float32Arrays. */
  value(packed: boolean, depth: number): unknown {
    const c = this.b[this.i];
    if (c === 0x7b) return this.object(depth + 1);
    if (c === 0x5b) return packed ? this.packedArray(depth + 1) : this.array(false, depth + 1);
    if (c === 0x22) return this.string();
    if (c === 0x2d || isDigit(c)) return packed ? Math.fround(this.number()) : this.number();
    if (this.literal("true")) return true;
    if (this.literal("false")) return false;
    if (this.literal("null")) return null;
    return this.fail("expected a JSON value");
  }

  literal(word: string): boolean {
    for (let k = 0; k < word.length; k++) if (this.b[this.i + k] !== word.charCodeAt(k)) return false;
    this.i += word.length;
    return true;
  }

  enter(depth: number): void {
    if (depth > MAX_DEPTH) this.fail(`JSON nests deeper than ${MAX_DEPTH} levels`);
    if (++this.containers > this.maxContainers)
      throw new JsonLimitError(
        `the body has more than ${this.maxContainers} arrays and objects (${CONTAINERS_BASE} plus one per ${1 / CONTAINERS_PER_BYTE} bytes): send tensor data flat`,
      );
    this.i++; // the opening bracket
    this.skipSpace();
  }

  /** After an element: true if a comma follows (skipped), false at the closing `close` (skipped). */
  next(close: number): boolean {
    this.skipSpace();
    const c = this.b[this.i];
    if (c === 0x2c) {
      this.i++;
      this.skipSpace();
      return true;
    }
    if (c !== close) this.fail(`expected ',' or '${String.fromCharCode(close)}'`);
    this.i++;
    return false;
  }

  object(depth: number): Record<string, unknown> {
    this.enter(depth);
    const out: Record<string, unknown> = {};
    if (this.b[this.i] === 0x7d) {
      this.i++;
      return out;
    }
    do {
      if (this.b[this.i] !== 0x22) this.fail("expected a string key");
      const key = this.string();
      this.skipSpace();
      if (this.b[this.i] !== 0x3a) this.fail("expected ':'");
      this.i++;
      this.skipSpace();
      const v = this.value(this.packedKeys.has(key), depth);
      // JSON.parse makes "__proto__" an own property; plain assignment would set the prototype.
      if (key === "__proto__") Object.defineProperty(out, key, { value: v, writable: true, enumerable: true, configurable: true });
      else out[key] = v;
    } while (this.next(0x7d));
    return out;
  }

  array(packed: boolean, depth: number, first: unknown[] = []): unknown[] {
    const out = first;
    if (out.length === 0) {
      this.enter(depth);
      if (this.b[this.i] === 0x5d) {
        this.i++;
        return out;
      }
    }
    do out.push(this.value(packed, depth));
    while (this.next(0x5d));
    return out;
  }

  /**
   * An array under a packed key: while its elements are numbers they go into a Float32Array;
   * an array of anything else (nested arrays included) is parsed as a plain array whose
   * elements are packed in turn.
   */
  packedArray(depth: number): unknown {
    this.enter(depth);
    const b = this.b;
    if (b[this.i] === 0x5d) {
      this.i++;
      return [];
    }
    // the parser's scratch first (an inner array of a nested tensor is often short: one
    // allocation for it), then arrays of twice the size as it fills; the scratch is free
    // again before any nested value is parsed
    let values = this.scratch;
    let n = 0;
    for (;;) {
      n = this.float32Run(values, n);
      if (this.runEnd !== RunEnd.Full) break;
      const grown = new Float32Array(2 * n);
      grown.set(values);
      values = grown;
    }
    if (this.runEnd === RunEnd.NoComma) {
      if (b[this.i] !== 0x5d) this.fail("expected ',' or ']'");
      this.i++;
      return n === values.length && values !== this.scratch ? values : values.slice(0, n);
    }
    // an element that is not a number: the numbers read so far, then the rest as a plain
    // array of packed values
    const head: unknown[] = Array.from(values.subarray(0, n));
    head.push(this.value(true, depth));
    return this.next(0x5d) ? this.array(true, depth, head) : head;
  }

  /** A string at this.i (the opening quote). */
  string(): string {
    const b = this.b;
    const start = ++this.i;
    let i = start,
      plain = true;
    for (;;) {
      if (i >= b.length) {
        this.i = i;
        this.fail("unterminated string");
      }
      const c = b[i];
      if (c === 0x22) break;
      if (c < 0x20) {
        this.i = i;
        this.fail("control character in a string");
      }
      if (c === 0x5c) {
        plain = false;
        i += 2;
      } else {
        if (c >= 0x80) plain = false;
        i++;
      }
    }
    this.i = i + 1;
    if (plain) return ascii(b, start, i);
    try {
      return JSON.parse(utf8.decode(b.subarray(start - 1, i + 1))) as string;
    } catch {
      this.i = start - 1;
      return this.fail("bad escape in a string");
    }
  }

  /** A number at this.i, as the double JSON.parse gives: V8's Number() on its text rounds the same way. */
  number(): number {
    const start = this.i;
    this.i = this.numberEnd(start);
    return Number(ascii(this.b, start, this.i));
  }

  /** The end of the number at i, checked against JSON's grammar -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?. */
  numberEnd(i: number): number {
    const b = this.b;
    const expect = (ok: boolean, what: string) => {
      if (!ok) {
        this.i = i;
        this.fail(`bad number: expected ${what}`);
      }
    };
    if (b[i] === 0x2d) i++;
    expect(isDigit(b[i]), "a digit");
    if (b[i] === 0x30) i++;
    else while (isDigit(b[i])) i++;
    if (b[i] === 0x2e) {
      i++;
      expect(isDigit(b[i]), "a digit after '.'");
      while (isDigit(b[i])) i++;
    }
    if (b[i] === 0x65 || b[i] === 0x45) {
      i++;
      if (b[i] === 0x2b || b[i] === 0x2d) i++;
      expect(isDigit(b[i]), "a digit in the exponent");
      while (isDigit(b[i])) i++;
    }
    return i;
  }

  /**
   * The run of numbers starting at this.i, each followed by a comma (skipped), into `out` from
   * index n, as the float32 Math.fround(JSON.parse(text)) gives; stops before the first
   * element that is not a number, or after the last one (the closing bracket is left), or
   * when out is full. Returns the new count; this.runEnd says why it stopped.
   *
   * In WebAssembly over windows of the bytes where the module loads; every element it leaves
   * (not a number, against the grammar, or not decidable there) is read by
   * float32RunFromText, which also reports the errors.
   */
  float32Run(out: Float32Array, n: number): number {
    const reader = this.reader;
    if (!reader) return float32RunFromText(this, out, n, out.length);
    let i = this.i,
      window = MIN_WINDOW;
    this.runEnd = RunEnd.Full;
    while (n < out.length) {
      n += reader.run(this.b, i, window, out, n, out.length - n);
      i += reader.stoppedAt;
      const stop = reader.stopped;
      if (stop === RunStop.NoComma) {
        this.runEnd = RunEnd.NoComma;
        break;
      }
      window = Math.min(Math.max(2 * reader.stoppedAt, MIN_WINDOW), this.maxWindow);
      if (stop === RunStop.Full) continue;
      // RunStop.One: this element from its text
      this.i = i;
      n = float32RunFromText(this, out, n, n + 1);
      i = this.i;
      if (this.runEnd !== RunEnd.Full) break;
    }
    this.i = i;
    return n;
  }
}
