// parseJsonBytes (src/serve/json_bytes.ts), the server's JSON parser for infer bodies, checked
// against the independent reference JSON.parse: on random documents and on random mutations of
// them (accepts exactly what JSON.parse accepts and gives the same values), and on numbers
// chosen next to float32 rounding boundaries, where its fast float32 path must hand over to
// exact parsing. Under a packed key the expected value is JSON.parse's with every number
// passed through Math.fround and arrays of only numbers as Float32Arrays (the documented rule).
// Each check runs the parser three ways (READERS): number runs in WebAssembly over the full
// window, in WebAssembly over tiny windows (so numbers, whitespace and errors fall across
// window ends), and in JavaScript alone.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { SeededRandom } from "../dist/model/random_weights.js";
import { JsonLimitError, JsonSyntaxError, jsonNumbersInWasm, parseJsonBytes } from "../dist/serve/json_bytes.js";
import { NumberRunReader } from "../dist/serve/json_number_run.js";

const KEYS = new Set(["data"]);
const Json = suite("parseJsonBytes against JSON.parse");

/** JSON.parse's value, packed as the documented rule says (the reference). */
function pack(v, packed) {
  if (typeof v === "number") return packed ? Math.fround(v) : v;
  if (Array.isArray(v)) {
    if (packed && v.length > 0 && v.every((x) => typeof x === "number")) return Float32Array.from(v);
    return v.map((x) => pack(x, packed));
  }
  if (v !== null && typeof v === "object") {
    const out = {};
    for (const [k, x] of Object.entries(v))
      Object.defineProperty(out, k, { value: pack(x, KEYS.has(k)), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return v;
}

/** Deep equality that tells -0 from 0, compares float32 arrays bit for bit and keeps key order. */
function same(a, b, path = "$") {
  if (a instanceof Float32Array || b instanceof Float32Array) {
    if (!(a instanceof Float32Array && b instanceof Float32Array)) return `${path}: Float32Array vs ${Object.prototype.toString.call(b)}`;
    if (a.length !== b.length) return `${path}: length ${a.length} vs ${b.length}`;
    const x = new Uint32Array(a.buffer, a.byteOffset, a.length),
      y = new Uint32Array(b.buffer, b.byteOffset, b.length);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return `${path}[${i}]: ${a[i]} vs ${b[i]}`;
    return null;
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return `${path}: array vs ${JSON.stringify(b)?.slice(0, 40)}`;
    for (let i = 0; i < a.length; i++) {
      const d = same(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (a !== null && typeof a === "object") {
    if (b === null || typeof b !== "object" || Array.isArray(b)) return `${path}: object vs ${typeof b}`;
    if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return `${path}: prototypes differ`;
    const ka = Object.keys(a),
      kb = Object.keys(b);
    if (ka.join("\0") !== kb.join("\0")) return `${path}: keys [${ka}] vs [${kb}]`;
    for (const k of ka) {
      const d = same(a[k], b[k], `${path}.${k}`);
      if (d) return d;
    }
    return null;
  }
  return Object.is(a, b) ? null : `${path}: ${a} vs ${b}`;
}

/** The parser's number-run readers under test, by name. */
const READERS = { wasm: {}, "wasm, 64-300 byte windows": null, javascript: { wasm: false } };
const readerOptions = (name) => READERS[name] ?? { maxWindow: 64 + int(237) };

/** Parses `bytes` with JSON.parse and with each reader; null if all agree (all reject, or equal values), else why not. */
function compare(bytes) {
  let expected,
    refError = null;
  try {
    expected = pack(JSON.parse(Buffer.from(bytes).toString("utf8")), false);
  } catch (e) {
    refError = e;
  }
  for (const reader of Object.keys(READERS)) {
    let got,
      ourError = null;
    try {
      got = parseJsonBytes(bytes, KEYS, readerOptions(reader));
    } catch (e) {
      ourError = e;
    }
    const d =
      ourError && !(ourError instanceof JsonSyntaxError)
        ? `threw ${ourError.name}: ${ourError.message}`
        : refError && ourError
          ? null
          : refError
            ? `accepted what JSON.parse rejects (${refError.message})`
            : ourError
              ? `rejected what JSON.parse accepts: ${ourError.message}`
              : same(expected, got);
    if (d) return `${reader}: ${d}`;
  }
  return null;
}

/** Each reader's Float32Array for the JSON array text `list` under "data". */
function packedData(list) {
  return Object.keys(READERS).map((reader) => [
    reader,
    /** @type {any} */ (parseJsonBytes(Buffer.from(`{"data":[${list}]}`), KEYS, readerOptions(reader))).data,
  ]);
}

const rng = new SeededRandom(20261201);
const pick = (list) => list[Math.floor(rng.uniform() * list.length)];
const int = (n) => Math.floor(rng.uniform() * n);

/** Number texts of many forms: float32 as clients print them, integers, exponents, extremes. */
function numberText() {
  switch (int(12)) {
    case 0:
      return String(int(1000) - 500);
    case 1:
      return String(Math.fround(rng.normal()));
    case 2:
      return String(Math.fround(rng.normal() * 10 ** (int(80) - 40)));
    case 3:
      return rng.normal().toExponential(int(20));
    case 4:
      return rng.normal().toFixed(int(25));
    case 5:
      return pick(["0", "-0", "-0.0", "0.0", "0e0", "1E+2", "1e-2", "-1E-0", "1e39", "-1e39", "3.4028235e38", "1e-46", "1.4e-45", "7e-46"]);
    case 6:
      return `${int(10)}.${"0".repeat(int(400))}${int(9) + 1}`;
    case 7:
      return `0.${"0".repeat(int(30))}${String(int(1e9))}${String(int(1e9))}`;
    case 8:
      return String(rng.uniform() * 2 ** int(70));
    case 9:
      return `${"9".repeat(int(30) + 1)}.${"9".repeat(int(30))}`;
    case 10:
      return boundaryText(Math.fround(rng.normal() * 10 ** (int(10) - 5)));
    default:
      return String(Math.fround(rng.uniform() - 0.5) / 0.225);
  }
}

/** A decimal next to the midpoint between float32 f and the next one up (exact, or a hair off). */
function boundaryText(f) {
  const up = new Float32Array(1),
    bits = new Uint32Array(up.buffer);
  up[0] = f;
  bits[0] += 1;
  const mid = (f + (Number.isFinite(up[0]) ? up[0] : 2 ** 128)) / 2; // exact in float64
  const offset = pick([0, 1e-17, -1e-17, 1e-12, -1e-12]) * mid;
  return (mid + offset).toPrecision(pick([17, 20, 25]));
}

const STRINGS = ["input", "data", "shape", "__proto__", "", "é", "日本", "a\\nb", "\\u00e9\\ud83d\\ude00", 'q\\"', "\\\\", "data2", "x y"];

function value(depth, packed) {
  const r = int(depth > 3 ? 6 : 9);
  if (r <= 1) return numberText();
  if (r === 2) return `"${pick(STRINGS)}"`;
  if (r === 3) return pick(["true", "false", "null"]);
  if (r === 4 && packed) return `[${Array.from({ length: int(20) }, numberText).join(pick([",", ", ", " ,\n"]))}]`;
  if (r === 5 || r === 6) return `[${Array.from({ length: int(5) }, () => value(depth + 1, packed)).join(",")}]`;
  const keys = Array.from({ length: int(5) }, () => pick(STRINGS));
  return `{${keys.map((k) => `"${k}"${pick([":", " : "])}${value(depth + 1, k === "data")}`).join(",")}}`;
}

const document = () => (int(3) === 0 ? value(0, false) : `{"inputs":[{"name":"input","data":${value(1, true)}}],"id":"x"}`);

Json("random documents give JSON.parse's values", () => {
  for (let k = 0; k < 3000; k++) {
    const text = pick(["", " ", "\n\t"]) + document() + pick(["", " ", "\r\n"]);
    const d = compare(Buffer.from(text));
    assert.is(d, null, `${d}\n  in ${text.slice(0, 300)}`);
  }
});

Json("random mutations are accepted and rejected exactly as JSON.parse does", () => {
  const alphabet = [...'{}[],:"\\-+.eE0123456789 \ntrufalsn'].map((c) => c.charCodeAt(0)).concat([0x00, 0x1f, 0x80, 0xc3, 0xff]);
  let rejected = 0;
  for (let k = 0; k < 6000; k++) {
    const bytes = [...Buffer.from(document())];
    for (let e = int(3) + 1; e > 0; e--) {
      const at = int(bytes.length + 1);
      const op = int(3);
      if (op === 0) bytes.splice(at, 1);
      else if (op === 1) bytes.splice(at, 0, pick(alphabet));
      else bytes.splice(at, 1, pick(alphabet));
    }
    const input = Uint8Array.from(bytes);
    const d = compare(input);
    assert.is(d, null, `${d}\n  in ${Buffer.from(input).toString("latin1").slice(0, 300)}`);
    try {
      JSON.parse(Buffer.from(input).toString("utf8"));
    } catch {
      rejected++;
    }
  }
  assert.ok(rejected > 1000 && rejected < 5900, `mutations should mix valid and invalid documents (${rejected} of 6000 invalid)`);
});

Json("the WebAssembly number reader loads (build/json_f32.wasm)", () => {
  assert.ok(jsonNumbersInWasm(), "number runs would be read in JavaScript only: run 'npm run build'");
});

/** Asserts every reader gives Math.fround(JSON.parse(t)) for each number text. */
function assertRoundsAsJsonParse(texts) {
  for (const [reader, got] of packedData(texts.join(",")))
    texts.forEach((t, i) =>
      assert.ok(Object.is(got[i], Math.fround(JSON.parse(t))), `${reader}: ${t}: got ${got[i]}, JSON.parse ${Math.fround(JSON.parse(t))}`),
    );
}

Json("numbers at float32 rounding boundaries round as Math.fround(JSON.parse(text))", () => {
  const texts = [];
  for (let k = 0; k < 20000; k++) texts.push(boundaryText(Math.fround(rng.normal() * 10 ** (int(12) - 6))));
  for (const f of [1.401298464324817e-45, 1.1754942106924411e-38, 3.4028234663852886e38, 1, 0.5])
    texts.push(boundaryText(f), boundaryText(-f));
  assertRoundsAsJsonParse(texts);
});

Json("exact float32 midpoints with few digits round to even, as Math.fround(JSON.parse(text))", () => {
  // 2^24 + odd and 2^23 + odd/2 are ties between two float32s, in 8 to 9 digits: the cases
  // where the reader's own rounding must defer to an exact one
  const texts = [];
  for (let k = 0; k < 2000; k++) {
    const odd = 2 * int(2 ** 22) + 1;
    texts.push(
      String(2 ** 24 + odd),
      `-${2 ** 24 + odd}`,
      String(2 ** 23 + odd / 2),
      `${(2 ** 23 + odd / 2) / 1000}e3`,
      `${2 ** 24 + odd}e-0`,
    );
  }
  assertRoundsAsJsonParse(texts);
});

Json("long number runs in every form, across window ends", () => {
  const isJson = (t) => {
    try {
      return typeof JSON.parse(t) === "number";
    } catch {
      return false; // "Infinity", "NaN"
    }
  };
  const texts = Array.from({ length: 20000 }, numberText).filter(isJson);
  const separators = [",", ", ", " ,\n", ",\t\t", ",".padEnd(70, " ")];
  const list = texts.map((t, i) => (i === 0 ? t : pick(separators) + t)).join("");
  for (const [reader, got] of packedData(list))
    assert.is(
      same(
        Float32Array.from(texts, (t) => Math.fround(JSON.parse(t))),
        got,
      ),
      null,
      reader,
    );
});

Json("a 224x224 image's data as clients print it", () => {
  const data = Array.from({ length: 3 * 224 * 224 }, () => Math.fround(rng.normal()));
  const body = Buffer.from(JSON.stringify({ inputs: [{ name: "input", shape: [1, 3, 224, 224], datatype: "FP32", data }] }));
  for (const reader of Object.keys(READERS)) {
    const got = /** @type {any} */ (parseJsonBytes(body, KEYS, readerOptions(reader)));
    assert.equal(got.inputs[0].shape, [1, 3, 224, 224]);
    assert.is(same(Float32Array.from(data), got.inputs[0].data), null, reader);
  }
});

Json("bytes copied into the WebAssembly window stay proportional to the body, even when it leaves every number to JavaScript", () => {
  // subnormal float32s and numbers of 25 digits are left to the JavaScript reader one by one;
  // a window that kept its size would copy 64 KB per number (thousands of times the body)
  const reader = /** @type {NonNullable<ReturnType<typeof NumberRunReader.get>>} */ (NumberRunReader.get());
  for (const pattern of ["1e-45,", "0.5,1e-45,", "1.0000000000000000000000001,", "0.25, 7e-46 ,"]) {
    const text = `{"data":[${pattern.repeat(Math.ceil(300000 / pattern.length))}1]}`;
    const before = reader.copiedBytes;
    const got = /** @type {any} */ (parseJsonBytes(Buffer.from(text), KEYS)).data;
    const copied = reader.copiedBytes - before;
    assert.ok(copied <= 16 * text.length, `${pattern}: copied ${copied} bytes for a ${text.length}-byte body`);
    const expected = Float32Array.from(JSON.parse(text).data, Math.fround);
    assert.is(same(expected, got), null, pattern);
  }
});

Json("an element that is not exactly a JSON number is rejected, whatever follows it", () => {
  // each inside a run of numbers, before a comma, where the fast lanes read
  const bad = [
    "01",
    "-01",
    "00",
    "1.5x",
    "1.5e",
    "1.5-",
    "1.5.5",
    "--1",
    "1.5+",
    "1..5",
    ".5",
    "1.",
    "-",
    "+1",
    "1e+",
    "0x1",
    "1,5e",
    "1 2",
    "Infinity",
    "NaN",
  ];
  for (const element of bad)
    for (const text of [
      `{"data":[${element},1,2]}`,
      `{"data":[1,${element},2.25,3]}`,
      `{"data":[${"0.123456789012345678,".repeat(50)}${element},1]}`,
    ]) {
      assert.throws(() => JSON.parse(text), undefined, `JSON.parse accepts ${text}`);
      const d = compare(Buffer.from(text));
      assert.is(d, null, `${d} in ${text.slice(0, 80)}`);
    }
  const good = ["1 ", "1.5\t", "-0.25 \n", "0", "-0", "1e5", "1.5E-3 "];
  for (const element of good) assert.is(compare(Buffer.from(`{"data":[1,${element},2]}`)), null, element);
});

Json("a nested image tensor is packed row by row; more arrays and objects than 1024 plus one per 32 bytes are refused", () => {
  const rows = Array.from({ length: 3 }, () =>
    Array.from({ length: 224 }, () => Array.from({ length: 224 }, () => Math.fround(rng.normal()))),
  );
  const text = JSON.stringify({ inputs: [{ name: "input", shape: [1, 3, 224, 224], data: [rows] }] });
  const got = /** @type {any} */ (parseJsonBytes(Buffer.from(text), KEYS));
  assert.is(same(pack(JSON.parse(text), false), got), null);
  // 100,000 one-number arrays in 0.4 MB: each a Float32Array object (~200 bytes of heap), ~50x the body
  const fine = Buffer.from(`{"data":[${Array.from({ length: 100000 }, (_, i) => `[${i % 10}]`).join(",")}]}`);
  const t0 = performance.now();
  assert.throws(
    () => parseJsonBytes(fine, KEYS),
    (e) =>
      e instanceof JsonLimitError &&
      /more than 13524 arrays and objects .*send tensor data flat/.test(e.message) &&
      !e.message.includes("\n"),
  );
  assert.ok(performance.now() - t0 < 1000, "refused early");
  // the same for arrays and objects anywhere, not only under "data"
  assert.throws(
    () => parseJsonBytes(Buffer.from(`{"parameters":[${"{},".repeat(20000)}{}]}`), KEYS),
    (e) => e instanceof JsonLimitError,
  );
  assert.ok(JSON.parse(fine.toString()).data.length === 100000, "it is valid JSON");
});

Json("errors are one-line JsonSyntaxErrors naming the byte", () => {
  /** @type {[string, RegExp][]} */
  const cases = [
    ["", /expected a JSON value \(end of input at byte 0\)/],
    ['{"data": [1, 2,]}', /expected a JSON value \(']' at byte 15\)/],
    ['{"data": [01]}', /expected ',' or '\]' \('1' at byte 11\)/],
    ['{"data": [1.]}', /bad number: expected a digit after '\.'/],
    ['{"data": [1e]}', /bad number: expected a digit in the exponent/],
    ['{"a": "\u0001"}', /control character in a string/],
    ['{"a": "\\x"}', /bad escape in a string/],
    ['{"a" 1}', /expected ':'/],
    ["[1] x", /unexpected data after the JSON value/],
    ["[".repeat(600), /nests deeper than 512 levels/],
  ];
  for (const [text, message] of cases)
    for (const reader of Object.keys(READERS))
      assert.throws(
        () => parseJsonBytes(Buffer.from(text), KEYS, readerOptions(reader)),
        (e) => e instanceof JsonSyntaxError && message.test(e.message) && !e.message.includes("\n"),
        `${reader}: ${text.slice(0, 40)}`,
      );
});

Json("'__proto__' is an own property, as JSON.parse makes it", () => {
  const got = parseJsonBytes(Buffer.from('{"__proto__": {"polluted": 1}}'), KEYS);
  assert.is(Object.getPrototypeOf(got), Object.prototype);
  assert.is({}.polluted, undefined);
  assert.equal(Object.keys(got), ["__proto__"]);
});

Json.run();
