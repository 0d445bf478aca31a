// Parser details the hostile corpus does not pin one by one: the ZIP checksum against
// node:zlib's, .npy format 2.0 output, the safetensors layout rules, the JSON pre-check's
// handling of strings, the Python-literal reader's rules, and the ONNX wire scan against the
// protobuf decoder.
import { readFileSync, readdirSync } from "node:fs";
import * as zlib from "node:zlib";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { DenseNetError, Session, formatNpy, parseNpy, parseSafetensors } from "../dist/index.js";
import { parsePyLiteral } from "../dist/io/py_literal.js";
import { crc32 } from "../dist/io/zip.js";
import { modelProtoType } from "../dist/onnx/proto.js";
import { countGraphEntries } from "../dist/onnx/wire_scan.js";
import { fixturesDir, randomArray, rejectsWith } from "./helpers.mjs";

/** A protobuf length-delimited field: key, varint length, bytes. */
function field(number, bytes) {
  const head = [number * 8 + 2];
  for (let n = bytes.length; ; n = Math.floor(n / 128)) {
    head.push(n >= 128 ? (n % 128) | 128 : n);
    if (n < 128) break;
  }
  const out = new Uint8Array(head.length + bytes.length);
  out.set(head);
  out.set(bytes, head.length);
  return out;
}

function throwsOneLine(fn, pattern) {
  try {
    fn();
  } catch (e) {
    assert.instance(e, DenseNetError, String(e));
    assert.not.ok(e.message.includes("\n"));
    assert.match(e.message, pattern);
    return;
  }
  assert.unreachable(`expected an error matching ${pattern}`);
}

function safetensors(headerText, dataBytes) {
  const json = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

const Formats = suite("hostile formats");

Formats("CRC-32 agrees with zlib's on every length and content", () => {
  if (typeof zlib.crc32 !== "function") return; // node:zlib has crc32 from Node 20.15 / 22.2
  for (const n of [0, 1, 3, 4, 5, 7, 8, 63, 1000, 65537]) {
    const bytes = new Uint8Array(randomArray(Math.ceil(n / 4) + 1, n).buffer).subarray(0, n);
    assert.is(crc32(bytes), zlib.crc32(bytes), `length ${n}`);
  }
});

Formats(".npy headers over 65535 bytes are written as format 2.0, as numpy does", () => {
  const dims = new Array(30000).fill(1);
  const bytes = formatNpy({ data: Float32Array.of(1.5), dims });
  assert.is(bytes[6], 2, "major version");
  const headerLen = new DataView(bytes.buffer).getUint32(8, true);
  assert.ok(headerLen > 65535);
  assert.is((12 + headerLen) % 64, 0, "data aligned to 64 bytes");
  const header = new TextDecoder("latin1").decode(bytes.subarray(12, 12 + headerLen));
  assert.ok(header.endsWith("\n"));
  const dict = /** @type {Map<string, any>} */ (parsePyLiteral(header, "npy"));
  assert.is(dict.get("shape").length, 30000);
  assert.is(new Float32Array(bytes.buffer.slice(12 + headerLen))[0], 1.5);
  const small = formatNpy({ data: Float32Array.of(1, 2), dims: [2] });
  assert.is(small[6], 1);
  assert.equal(Array.from(parseNpy(small).data), [1, 2]);
});

Formats("safetensors data must tile the buffer: gaps and overlaps anywhere are refused, empty tensors are fine", () => {
  const entry = (name, begin, end, shape) => `"${name}":{"dtype":"F32","shape":${JSON.stringify(shape)},"data_offsets":[${begin},${end}]}`;
  const ok = parseSafetensors(safetensors(`{${entry("a", 0, 8, [2])},${entry("e", 8, 8, [0])},${entry("b", 8, 12, [1])}}`, 12));
  assert.equal([...ok.keys()], ["a", "e", "b"]);
  throwsOneLine(
    () => parseSafetensors(safetensors(`{${entry("a", 0, 4, [1])},${entry("b", 8, 12, [1])}}`, 12)),
    /tensor 'b' starts at byte 8, leaving a gap after byte 4/,
  );
  throwsOneLine(
    () => parseSafetensors(safetensors(`{${entry("a", 0, 8, [2])},${entry("b", 4, 8, [1])}}`, 8)),
    /overlaps the tensor before it/,
  );
  throwsOneLine(() => parseSafetensors(safetensors(`{${entry("a", 4, 8, [1])}}`, 8)), /starts at byte 4, leaving a gap after byte 0/);
});

Formats("the JSON pre-check reads keys as JSON does: escapes, and braces inside strings", () => {
  const entry = (name) => `"${name}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`;
  const parsed = parseSafetensors(
    safetensors(`{"__metadata__":{"note":"{[ not nested \\" ]}"},${entry("a\\u0062")},${entry("ab\\\\")}}`, 0),
  );
  assert.equal([...parsed.keys()], ["ab", "ab\\"]);
  throwsOneLine(() => parseSafetensors(safetensors(`{${entry("ab")},${entry("a\\u0062")}}`, 0)), /header names 'ab' twice/);
  throwsOneLine(
    () => parseSafetensors(safetensors(`{"__metadata__":${'{"a":'.repeat(100)}1${"}".repeat(100)}}`, 0)),
    /nests deeper than 64 levels/,
  );
  // 64 levels in all are allowed, 65 are not (arrays count as objects do)
  const nested = (levels) => `{"__metadata__":{"note":"x"},"deep":${"[".repeat(levels - 1)}${"]".repeat(levels - 1)}}`;
  throwsOneLine(() => parseSafetensors(safetensors(nested(64), 0)), /tensor 'deep' has no description|invalid|dtype/);
  throwsOneLine(() => parseSafetensors(safetensors(nested(65), 0)), /nests deeper than 64 levels/);
  // a repeat is found whether or not colons appear inside strings (which the fast count takes for keys)
  for (const note of ["plain", "a: b, c: d", '{\\"k\\": 1}']) {
    const meta = `"__metadata__":{"note":"${note}"}`;
    assert.equal([...parseSafetensors(safetensors(`{${meta},${entry("ab")},${entry("cd")}}`, 0)).keys()], ["ab", "cd"], note);
    throwsOneLine(
      () => parseSafetensors(safetensors(`{${meta},${entry("ab")},${entry("cd")},${entry("ab")}}`, 0)),
      /header names 'ab' twice/,
    );
    // a key repeated inside an entry
    throwsOneLine(
      () => parseSafetensors(safetensors(`{${meta},"ab":{"dtype":"F32","dtype":"F32","shape":[0],"data_offsets":[0,0]}}`, 0)),
      /header names 'dtype' twice/,
    );
  }
});

Formats("the Python-literal reader: tuples, strings, repeated keys, and nothing it should not accept", () => {
  const d = /** @type {Map<string, any>} */ (
    parsePyLiteral("{'a': (1, 2,), \"b\": 'x\\'y', 'c': True, 'a': (), 'd': (5,), 'e': (5), 'f': None}", "t")
  );
  assert.equal([...d.keys()], ["b", "c", "a", "d", "e", "f"]);
  assert.equal([...d.get("a")], []);
  assert.is(d.get("b"), "x'y");
  assert.is(d.get("d").tuple, true);
  assert.is(d.get("e"), 5);
  assert.is(d.get("f"), null);
  for (const bad of [
    "{'a': 1.5}",
    "{'a': 01}",
    "{'a': [1]}",
    "{'a': f()}",
    "{1: 2}",
    "{'a': 1",
    "{'a': 1} x",
    "{'a': -1}",
    "{'a': 1_0}",
    "{'a': b'x'}",
  ]) {
    throwsOneLine(() => parsePyLiteral(bad, "t"), /^t: malformed header/);
  }
});

Formats("the ONNX wire scan counts what the decoder decodes, and refuses a million nodes before decoding them", async () => {
  const Model = modelProtoType();
  const dir = new URL("onnx/", fixturesDir);
  for (const name of readdirSync(dir).filter((f) => f.endsWith(".onnx"))) {
    const bytes = readFileSync(new URL(name, dir));
    const decoded = Model.decode(bytes);
    assert.equal(countGraphEntries(bytes), { nodes: decoded.graph.node.length, initializers: decoded.graph.initializer.length }, name);
  }
  // A real model, then a second graph field (protobuf merges it into the first) of 1e6 Relu nodes.
  const base = readFileSync(new URL("narrow_odd.opset13.onnx", dir));
  const relu = field(
    1,
    Model.lookupType("onnx.NodeProto")
      .encode({ opType: "Relu", input: ["x"], output: ["y"] })
      .finish(),
  );
  const graph = new Uint8Array(relu.length * 1e6);
  for (let i = 0; i < 1e6; i++) graph.set(relu, i * relu.length);
  const bytes = new Uint8Array([...base, ...field(7, graph)]);
  const t0 = performance.now();
  await rejectsWith(Session.create(bytes), /the graph has 1000073 nodes, over the limit of 50000/);
  assert.ok(performance.now() - t0 < 1000, `refused in ${performance.now() - t0} ms`);
  assert.is(countGraphEntries(bytes.subarray(0, bytes.length - 3)), null, "a truncated message does not scan");
});

Formats.run();
