#!/usr/bin/env node
// The hostile corpus: model and tensor files bent in every way the hardening work guards
// against (silent wrong answers, internal errors, hangs, unbounded memory), built from the
// small committed fixtures. Each file names its unmutated original and what must happen:
//   "refuse": loading or running it fails with a one-line DenseNetError;
//   "same":   it loads and gives bitwise the original's output;
//   "either": one of the two (random mutations, which may or may not break the file).
// Usage: node scripts/make_hostile_corpus.mjs OUTDIR  (writes OUTDIR/<name> and OUTDIR/manifest.json)
// The tests (test/hostile_corpus.test.mjs) generate it into a temporary directory.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { formatNpy, parseSafetensors } from "../dist/index.js";
import { densenetConfig } from "../dist/model/config.js";
import { SeededRandom, randomWeights } from "../dist/model/random_weights.js";
import { modelProtoType } from "../dist/onnx/proto.js";
import { P, concat, crc32, safetensorsBytes, statePickle, writePth, writeSafetensors, writeZip } from "./hostile/writers.mjs";

const fixtures = new URL("../test/fixtures/", import.meta.url);
const read = (name) => new Uint8Array(readFileSync(new URL(name, fixtures)));

/** The originals: name -> { format, bytes }, and the input every model runs on. */
export function originals() {
  const safetensors = read("narrow_odd.safetensors");
  const floats = new Map([...parseSafetensors(safetensors)].filter(([, t]) => t.dtype === "F32"));
  const rng = new SeededRandom(77);
  const input = { data: Float32Array.from({ length: 3 * 45 * 37 }, () => rng.normal()), dims: [1, 3, 45, 37] };
  return {
    input,
    floats,
    models: {
      "narrow_odd.safetensors": safetensors,
      "narrow_odd.pth": writeZip(writePth(floats)),
      "narrow_odd.onnx": read("onnx/narrow_odd.opset13.onnx"),
    },
  };
}

function mutateBytes(original, rng, region) {
  const b = Uint8Array.from(original);
  const n = 1 + Math.floor(rng.uniform() * 4);
  for (let i = 0; i < n; i++) b[Math.floor(rng.uniform() * Math.min(region, b.length))] = Math.floor(rng.uniform() * 256);
  return b;
}

function* safetensorsCases(o) {
  const base = "narrow_odd.safetensors";
  const t = o.floats;
  const names = [...t.keys()];
  const item = (name, bytes, expect) => ({ name: `st_${name}.safetensors`, original: base, expect, bytes });
  yield item("reordered", writeSafetensors(t, { order: [...names].reverse() }), "same");
  yield item(
    "overlap",
    writeSafetensors(t, { entry: (e, n) => (n === names[3] ? { ...e, data_offsets: [e.data_offsets[0] - 4, e.data_offsets[1] - 4] } : e) }),
    "refuse",
  );
  const whole = writeSafetensors(t);
  yield item("trailing_bytes", concat([whole, new Uint8Array(16)]), "refuse");
  yield item(
    "duplicate_key",
    writeSafetensors(t, { extra: `${JSON.stringify(names[0])}:{"dtype":"F32","shape":[1],"data_offsets":[0,4]},` }),
    "refuse",
  );
  const { text, data } = splitSafetensors(writeSafetensors(t));
  yield item("duplicate_field", safetensorsBytes(text.replace('"dtype":"F32"', '"dtype":"F32","dtype":"F32"'), data), "refuse");
  yield item("metadata_ok", safetensorsBytes(`{"__metadata__":{"format":"pt"},${text.slice(1)}`, data), "same");
  yield item("deep_metadata", writeSafetensors(t, { extra: `"__metadata__":${"[".repeat(200000)}${"]".repeat(200000)},` }), "refuse");
  yield item(
    "header_length_huge",
    Uint8Array.from(whole, (v, i) => (i === 5 ? 0x7f : v)),
    "refuse",
  );
  yield item("truncated", whole.subarray(0, whole.length - 100), "refuse");
  const bend = (name, fn) => {
    const copy = new Map([...t].map(([k, v]) => [k, { ...v, data: Float32Array.from(v.data) }]));
    fn(copy.get(name).data);
    return writeSafetensors(copy);
  };
  yield item(
    "weight_3e38",
    bend("classifier.weight", (d) => d.fill(3e38)),
    "refuse",
  );
  yield item(
    "negative_running_var",
    bend("features.norm5.running_var", (d) => {
      d[2] = -1;
    }),
    "refuse",
  );
  yield item(
    "nan_weight",
    bend("features.conv0.weight", (d) => {
      d[5] = NaN;
    }),
    "refuse",
  );
  const zeroTransition = {
    ...densenetConfig({ growthRate: 2, blockConfig: [1, 1], numInitFeatures: 1, bnSize: 1, numClasses: 3 }),
    transitionChannels: [0],
  };
  const zw = new Map([...randomWeights(zeroTransition, 1)].filter(([, v]) => v.data));
  yield { name: "st_transition_width_0.safetensors", original: null, expect: "refuse", bytes: writeSafetensors(zw), input: [1, 3, 32, 32] };
  const headerLength = Number(new DataView(whole.buffer).getBigUint64(0, true));
  const rng = new SeededRandom(11);
  for (let i = 0; i < 40; i++) yield item(`header_mutation_${i}`, mutateBytes(whole, rng, 8 + headerLength), "either");
}

function* pthCases(o) {
  const base = "narrow_odd.pth";
  const t = o.floats;
  const item = (name, members, expect) => ({
    name: `pth_${name}.pth`,
    original: base,
    expect,
    bytes: members instanceof Uint8Array ? members : writeZip(members),
  });
  const first = [...t.keys()].indexOf("features.norm0.weight");
  yield item("rewritten", writePth(t), "same");
  yield item(
    "strided_view",
    writePth(t, {
      bend: (records, storages) => {
        // classifier.weight stored transposed and read through strides
        const r = records.find((x) => x.name === "classifier.weight");
        const [m, k] = r.size;
        const src = new Float32Array(storages.get(r.key).buffer);
        const transposed = new Float32Array(m * k);
        for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) transposed[j * m + i] = src[i * k + j];
        storages.set(r.key, new Uint8Array(transposed.buffer));
        r.stride = [1, m];
      },
    }),
    "same",
  );
  yield item(
    "negative_offset",
    writePth(t, {
      bend: (r) => {
        r[first].offset = -1;
      },
    }),
    "refuse",
  );
  yield item(
    "offset_past_storage",
    writePth(t, {
      bend: (r) => {
        r[first].offset = 1;
      },
    }),
    "refuse",
  );
  yield item(
    "stride_past_storage",
    writePth(t, {
      bend: (r) => {
        r[first].stride = [2];
      },
    }),
    "refuse",
  );
  yield item(
    "stride_zero_inflation",
    writePth(t, {
      bend: (r, s) => {
        s.set(r[first].key, s.get(r[first].key).subarray(0, 4));
        r[first].numel = 1;
        r[first].stride = [0];
      },
    }),
    "refuse",
  );
  yield item(
    "numel_mismatch",
    writePth(t, {
      bend: (r) => {
        r[first].numel += 1;
      },
    }),
    "refuse",
  );
  yield item(
    "size_mismatch",
    writePth(t, {
      bend: (r) => {
        r[first].size = [r[first].size[0] - 1];
      },
    }),
    "refuse",
  );
  const stale = writePth(t);
  stale[2] = { ...stale[2], crc: crc32(stale[2].data), data: Uint8Array.from(stale[2].data, (v, i) => (i === 3 ? v ^ 0x40 : v)) };
  yield item("stale_crc", stale, "refuse");
  yield item(
    "self_referencing_pid",
    writePth(t, { pickle: concat([P.proto(), P.emptyList(), P.binput(0), P.binget(0), P.append(), P.persid(), P.stop()]) }),
    "refuse",
  );
  yield item(
    "nested_1e6",
    writePth(t, { pickle: concat([P.proto(), ...Array(1e6).fill(P.emptyList()), ...Array(1e6 - 1).fill(P.append()), P.stop()]) }),
    "refuse",
  );
  yield item(
    "appends_5e6",
    writePth(t, { pickle: concat([P.proto(), P.emptyList(), P.mark(), ...Array(5e6).fill(Uint8Array.of(0x4e)), P.appends(), P.stop()]) }),
    "refuse",
  );
  yield item("billion_laughs", writePth(t, { pickle: billionLaughs() }), "refuse");
  yield item(
    "os_system",
    writePth(t, { pickle: concat([P.proto(), P.global("os", "system"), P.mark(), P.str("true"), P.tuple(), P.reduce(), P.stop()]) }),
    "refuse",
  );
  yield item("empty_state_dict", writePth(t, { pickle: statePickle([]) }), "refuse");
  const whole = writeZip(writePth(t));
  const rng = new SeededRandom(12);
  for (let i = 0; i < 40; i++) yield item(`byte_mutation_${i}`, mutateBytes(whole, rng, whole.length), "either");
  for (const cut of [0.1, 0.5, 0.9, 0.999]) yield item(`truncated_${cut}`, whole.subarray(0, Math.floor(whole.length * cut)), "refuse");
}

/** A safetensors file's header text and data section. */
function splitSafetensors(bytes) {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { text: new TextDecoder().decode(bytes.subarray(8, 8 + n)), data: bytes.subarray(8 + n) };
}

/** 20 levels of a 10-item list of the level below, then used as a persistent id: 10^20 leaves if expanded. */
function billionLaughs() {
  const parts = [P.proto(), P.str("lol"), P.binput(0)];
  for (let level = 1; level <= 20; level++) {
    parts.push(P.emptyList(), P.mark(), ...Array(10).fill(P.binget(level - 1)), P.appends(), P.binput(level));
  }
  parts.push(P.persid(), P.stop());
  return concat(parts);
}

function* onnxCases(o) {
  const base = "narrow_odd.onnx";
  const Model = modelProtoType();
  const decode = () => Model.toObject(Model.decode(o.models[base]), { longs: Number });
  const encode = (m) => Model.encode(Model.fromObject(m)).finish();
  const item = (name, bytes, expect, original = base) => ({
    name: `onnx_${name}.onnx`,
    original,
    expect,
    bytes,
    input: original ? undefined : [1, 1, 8, 8],
  });
  const relu = (i, input, output) => ({ opType: "Relu", input: [input], output: [output], name: `dead_${i}`, attribute: [] });
  const withNodes = (extra) => {
    const m = decode();
    m.graph.node.push(...extra);
    return encode(m);
  };
  const out = decode().graph.node.at(-1).output[0];
  yield item("dead_nodes_40k", withNodes(Array.from({ length: 40000 }, (_, i) => relu(i, i === 0 ? out : `d${i - 1}`, `d${i}`))), "same");
  yield item("dead_nodes_60k", withNodes(Array.from({ length: 60000 }, (_, i) => relu(i, out, `d${i}`))), "refuse");
  const single = (nodes, input, output, inits = []) =>
    encode({
      irVersion: 8,
      opsetImport: [{ domain: "", version: 13 }],
      graph: { name: "g", node: nodes, initializer: inits, input: [vi(input, [1, 1, 8, 8])], output: [vi(output, [1, 1, 8, 8])] },
    });
  yield item(
    "relu_chain_60k",
    single(
      Array.from({ length: 60000 }, (_, i) => relu(i, i ? `r${i - 1}` : "x", `r${i}`)),
      "x",
      "r59999",
    ),
    "refuse",
    null,
  );
  yield item(
    "cycle_40k",
    single(
      Array.from({ length: 40000 }, (_, i) => relu(i, `c${(i + 39999) % 40000}`, `c${i}`)),
      "x",
      "c0",
    ),
    "refuse",
    null,
  );
  const conv = (pads, w, extra = {}) =>
    single(
      [{ opType: "Conv", input: ["x", "w"], output: ["y"], name: "conv", attribute: [{ name: "pads", type: 7, ints: pads }] }],
      "x",
      "y",
      [{ name: "w", dims: [1, 1, 3, 3], dataType: 1, floatData: w ?? new Array(9).fill(0.5), ...extra }],
    );
  yield item("conv_pads_4000", conv([4000, 4000, 4000, 4000]), "refuse", null);
  yield item("interpreted_nan_initializer", conv([1, 1, 1, 1], [0.5, NaN, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]), "refuse", null);
  yield item("interpreted_weight_3e38", conv([1, 1, 1, 1], new Array(9).fill(3e38)), "refuse", null);
  const bend = (fn) => {
    const m = decode();
    fn(m);
    return encode(m);
  };
  const bn = (m) => m.graph.node.find((n) => n.opType === "BatchNormalization");
  yield item(
    "bn_epsilon_negative",
    bend((m) => {
      bn(m).attribute = [{ name: "epsilon", type: 1, f: -1 }];
    }),
    "refuse",
  );
  yield item(
    "bn_negative_variance",
    bend((m) => {
      const init = m.graph.initializer.find((t) => t.name === bn(m).input[4]);
      if (init.rawData?.length) {
        const data = new Float32Array(Uint8Array.from(init.rawData).buffer);
        data[0] = -5;
        init.rawData = new Uint8Array(data.buffer);
      } else {
        init.floatData[0] = -5;
      }
    }),
    "refuse",
  );
  const rng = new SeededRandom(13);
  const whole = o.models[base];
  for (let i = 0; i < 10; i++) yield item(`truncated_${i}`, whole.subarray(0, Math.floor(rng.uniform() * whole.length)), "refuse");
}

const vi = (name, dims) => ({ name, type: { tensorType: { elemType: 1, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });

/** .npy files of the original input (v1 header text given as a Python literal). */
function* npyCases(o) {
  const good = formatNpy(o.input);
  const data = good.subarray(128);
  const header = (text, version = 1) => {
    const pre = version === 1 ? 10 : 12;
    const padded = `${text}${" ".repeat((64 - ((pre + text.length + 1) % 64)) % 64)}\n`;
    const h = new Uint8Array(pre + padded.length);
    h.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
    const view = new DataView(h.buffer);
    if (version === 1) view.setUint16(8, padded.length, true);
    else view.setUint32(8, padded.length, true);
    for (let i = 0; i < padded.length; i++) h[pre + i] = padded.charCodeAt(i);
    return h;
  };
  const item = (name, bytes, expect) => ({ name: `npy_${name}.npy`, original: "input.npy", expect, bytes });
  const shape = "(1, 3, 45, 37)";
  yield item("plain", good, "same");
  yield item("version_2", concat([header(`{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`, 2), data]), "same");
  yield item(
    "duplicate_shape_last_wins",
    concat([header(`{'descr': '<f4', 'fortran_order': False, 'shape': (7,), 'shape': ${shape}}`), data]),
    "same",
  );
  yield item("double_quotes_no_spaces", concat([header(`{"descr":"<f4","fortran_order":False,"shape":${shape}}`), data]), "same");
  yield item(
    "decoy_shape_in_string",
    concat([header(`{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, 'x': "'shape': (1, 3, 8, 8)"}`), data]),
    "refuse",
  );
  yield item(
    "decoy_in_descr",
    concat([header(`{'descr': "<f4', 'shape': (3,), '", 'fortran_order': False, 'shape': ${shape}}`), data]),
    "refuse",
  );
  yield item("shape_list", concat([header(`{'descr': '<f4', 'fortran_order': False, 'shape': [1, 3, 45, 37]}`), data]), "refuse");
  yield item("shape_parenthesised_int", concat([header(`{'descr': '<f4', 'fortran_order': False, 'shape': (4995)}`), data]), "refuse");
  yield item("shape_negative", concat([header(`{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 3, 45, 37)}`), data]), "refuse");
  yield item(
    "shape_1e6_entries",
    concat([header(`{'descr': '<f4', 'fortran_order': False, 'shape': (${"1, ".repeat(1e6)})}`, 2), data]),
    "refuse",
  );
  yield item(
    "deep_nesting",
    concat([header(`{'descr': '<f4', 'fortran_order': False, 'shape': ${"(".repeat(5000)}${")".repeat(5000)}}`), data]),
    "refuse",
  );
  yield item("call", concat([header(`{'descr': '<f4', 'fortran_order': False, 'shape': __import__('os')}`), data]), "refuse");
  yield item(
    "truncated_data",
    concat([header(`{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}}`), data.subarray(0, 100)]),
    "refuse",
  );
  yield item(
    "header_length_past_end",
    Uint8Array.from(good, (v, i) => (i === 9 ? 0xff : v)),
    "refuse",
  );
}

/** Every case, in a stable order. */
export function buildCorpus() {
  const o = originals();
  return { originals: o, cases: [...safetensorsCases(o), ...pthCases(o), ...onnxCases(o), ...npyCases(o)] };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2];
  if (!dir) throw new Error("usage: node scripts/make_hostile_corpus.mjs OUTDIR");
  mkdirSync(dir, { recursive: true });
  const { originals: o, cases } = buildCorpus();
  for (const [name, bytes] of Object.entries(o.models)) writeFileSync(join(dir, name), bytes);
  writeFileSync(join(dir, "input.npy"), formatNpy(o.input));
  for (const c of cases) writeFileSync(join(dir, c.name), c.bytes);
  const manifest = cases.map(({ name, original, expect, input }) => ({ name, original, expect, input }));
  writeFileSync(
    join(dir, "manifest.json"),
    JSON.stringify({ models: Object.keys(o.models), input: "input.npy", cases: manifest }, null, 1),
  );
  console.log(`${cases.length} hostile files in ${dir}`);
}
