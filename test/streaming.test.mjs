// A safetensors path is read in place, one tensor at a time as its weights are packed
// (io/safetensors_file.ts): the same outputs, bit for bit, as the same file given as bytes
// (read whole), for every fixture and for BF16/F16 data; a file that shrinks while it is read,
// reads after close, and no file descriptor left open after any session, good or refused; and
// the peak RSS of `densenet run` on a full-size DenseNet-121 stays near Node's own plus the
// linear memory (the whole file in a JS buffer, as before, fails it).
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Session, parseSafetensors } from "../dist/index.js";
import { openSafetensorsFile } from "../dist/io/safetensors_file.js";
import { architectureConfig } from "../dist/model/config.js";
import { randomWeights } from "../dist/model/random_weights.js";
import { parseNpy } from "../dist/io/npy.js";
import { assertBitwiseEqual, fixturesDir, randomArray, rejectsWith } from "./helpers.mjs";

const Streaming = suite("streamed safetensors");
const tmp = mkdtempSync(join(tmpdir(), "densenet-stream-"));
const fixture = (name) => fileURLToPath(new URL(name, fixturesDir));
const manifest = JSON.parse(readFileSync(new URL("manifest.json", fixturesDir), "utf8"));

/** A safetensors file of `tensors` ({ name: { dtype, shape, bytes } }) and optional metadata, written independently of the reader. */
function writeSafetensors(path, tensors, metadata) {
  const header = metadata ? { __metadata__: metadata } : {};
  let at = 0;
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [at, at + t.bytes.length] };
    at += t.bytes.length;
  }
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(path, Buffer.concat([len, json, ...Object.values(tensors).map((t) => t.bytes)]));
}

/** Every tensor of a parsed file as F32 bytes, or BF16 (the top 16 bits of each float32: exact for these values after rounding them so). */
function recode(parsed, dtype) {
  const out = {};
  for (const [name, t] of parsed) {
    if (t.data === null) continue;
    if (dtype === "F32") {
      out[name] = {
        dtype,
        shape: t.shape,
        bytes: Buffer.from(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength)),
      };
    } else {
      const bits = new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length);
      const half = Uint16Array.from(bits, (b) => b >>> 16);
      out[name] = { dtype, shape: t.shape, bytes: Buffer.from(half.buffer) };
    }
  }
  return out;
}

async function outputs(source, input) {
  const session = await Session.create(source, { threads: 1 });
  try {
    return (await session.run(input)).data;
  } finally {
    await session.release();
  }
}

for (const { name } of manifest) {
  Streaming(`${name}: a path gives the same bits as its bytes`, async () => {
    const path = fixture(`${name}.safetensors`);
    const input = parseNpy(readFileSync(fixture(`${name}.input.npy`)));
    assertBitwiseEqual(await outputs(path, input), await outputs(readFileSync(path), input), name);
  });
}

Streaming("BF16 data: a path gives the same bits as its bytes", async () => {
  const path = join(tmp, "bf16.safetensors");
  writeSafetensors(path, recode(parseSafetensors(readFileSync(fixture("narrow_odd.safetensors"))), "BF16"));
  const input = parseNpy(readFileSync(fixture("narrow_odd.input.npy")));
  assertBitwiseEqual(await outputs(path, input), await outputs(readFileSync(path), input), "BF16");
});

Streaming("metadata is read from the header of a streamed file", async () => {
  const path = join(tmp, "meta.safetensors");
  const labels = Array.from({ length: 10 }, (_, i) => `class ${i}`);
  writeSafetensors(path, recode(parseSafetensors(readFileSync(fixture("tiny121.safetensors"))), "F32"), {
    "densenet.labels": JSON.stringify(labels),
  });
  const session = await Session.create(path, { threads: 1 });
  assert.equal(session.metadata.labels, labels);
  await session.release();
});

Streaming("a file that shrinks while it is read, and reads after close, are one-line errors", () => {
  const path = join(tmp, "shrinks.safetensors");
  copyFileSync(fixture("tiny121.safetensors"), path);
  const file = openSafetensorsFile(path, path);
  const names = [...file.tensors.keys()];
  assert.ok(file.tensors.get(names[0]).read() instanceof Float32Array);
  truncateSync(path, 4096);
  const last = names.map((n) => file.tensors.get(n)).find((t) => t.dtype === "F32" && t.shape.length === 2);
  assert.throws(
    () => last.read(),
    (e) => e.name === "DenseNetError" && /shrank while it was read/.test(e.message) && !e.message.includes("\n"),
  );
  file.close();
  assert.throws(() => file.tensors.get(names[0]).read(), /read after the file was closed/);
  assert.is(openSafetensorsFile(fixture("tiny121.input.npy"), "x"), null, "not a safetensors file: null, nothing left open");
});

const openFds = () => (existsSync("/proc/self/fd") ? readdirSync("/proc/self/fd").length : null);

Streaming("no file descriptor stays open after sessions that load, and that are refused", async () => {
  const before = openFds();
  if (before === null) return; // no /proc: nothing to count
  const good = fixture("narrow_odd.safetensors");
  for (let i = 0; i < 3; i++) await (await Session.create(good, { threads: 1 })).release();
  // A NaN in a conv weight is found only when it is read, while packing.
  const tensors = recode(parseSafetensors(readFileSync(good)), "F32");
  const conv = Object.keys(tensors).find((k) => k.endsWith("conv2.weight"));
  const bytes = Buffer.from(tensors[conv].bytes);
  bytes.writeFloatLE(NaN, 8);
  tensors[conv] = { ...tensors[conv], bytes };
  const nan = join(tmp, "nan.safetensors");
  writeSafetensors(nan, tensors);
  const nanMessage = new RegExp(`tensor '${conv.replace(/\./g, "\\.")}' holds a non-finite value \\(NaN\\) at index 2`);
  await rejectsWith(Session.create(nan, { threads: 1 }), nanMessage);
  // With a pool: its workers start while the weights are packed, and are shut down when packing fails.
  await rejectsWith(Session.create(nan, { threads: 2 }), nanMessage);
  // A shape that does not fit the configuration is found before anything is packed.
  const classifier = {
    ...tensors,
    "classifier.weight": { ...tensors["classifier.weight"], shape: [5, tensors["classifier.weight"].shape[1] * 2] },
  };
  const bad = join(tmp, "badshape.safetensors");
  writeSafetensors(bad, classifier);
  await rejectsWith(Session.create(bad, { threads: 1 }), /classifier\.weight/);
  assert.is(openFds(), before, "open file descriptors after the sessions");
});

Streaming("densenet run on DenseNet-121: peak RSS within Node's own + linear memory + 40 MB", async () => {
  if (!existsSync("/proc/self/status")) return; // VmHWM is Linux's
  // A full-size model (32 MB) from the seeded random weights, and one image.
  const path = join(tmp, "densenet121.safetensors");
  const weights = randomWeights(architectureConfig("densenet121"), 3);
  writeSafetensors(
    path,
    Object.fromEntries(
      [...weights].map(([name, t]) => [
        name,
        { dtype: t.dtype, shape: t.shape, bytes: Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength) },
      ]),
    ),
  );
  const x = randomArray(3 * 224 * 224, 5);
  const header = Buffer.from(`${"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 224, 224), }".padEnd(117)}\n`);
  const pre = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  writeFileSync(join(tmp, "x.npy"), Buffer.concat([pre, header, Buffer.from(x.buffer)]));
  const hook = fileURLToPath(new URL("../bench/lib/hwm_at_exit.cjs", import.meta.url));
  const peak = (args) => {
    const file = join(tmp, "hwm.txt");
    const r = spawnSync(process.execPath, ["--require", hook, ...args], {
      encoding: "utf8",
      timeout: 60000,
      env: { ...process.env, HWM_AT_EXIT_FILE: file },
    });
    assert.is(r.status, 0, r.stderr);
    return Number(readFileSync(file, "utf8")) / 1024;
  };
  const cli = fileURLToPath(new URL("../dist/bin/cli.js", import.meta.url));
  const node = peak(["-e", "0"]);
  const run = peak([cli, "run", "--model", path, "--input", join(tmp, "x.npy"), "--output", join(tmp, "y.npy"), "--threads", "1"]);
  const session = await Session.create(path, { threads: 1 });
  session.plan(224, 224);
  const linear = session.info.memoryBytes / 2 ** 20;
  await session.release();
  assert.ok(
    run - node <= linear + 40,
    `peak RSS ${run.toFixed(0)} MB: Node alone ${node.toFixed(0)} MB + linear memory ${linear.toFixed(0)} MB + 40 MB is ${(node + linear + 40).toFixed(0)}`,
  );
});

Streaming.after(() => rmSync(tmp, { recursive: true, force: true }));
Streaming.run();
