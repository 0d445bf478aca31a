// .npy and safetensors parsing: round trips, and a one-line error for every kind of bad file.
import { readFileSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { DenseNetError, formatNpy, parseNpy, parseSafetensors } from "../dist/index.js";
import { encodeSafetensors as safetensors, fixturesDir } from "./helpers.mjs";

function throwsDenseNet(fn, pattern) {
  try {
    fn();
  } catch (e) {
    assert.instance(e, DenseNetError, `expected a DenseNetError, got ${e}`);
    assert.ok(pattern.test(e.message), `message '${e.message}' does not match ${pattern}`);
    assert.not.ok(e.message.includes("\n"), "error is one line");
    return;
  }
  assert.unreachable(`expected an error matching ${pattern}`);
}

function npyWithHeader(header, payload = new Uint8Array(0)) {
  const text = `${header + " ".repeat((64 - ((10 + header.length + 1) % 64)) % 64)}\n`;
  const out = new Uint8Array(10 + text.length + payload.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, text.length, true);
  for (let i = 0; i < text.length; i++) out[10 + i] = text.charCodeAt(i);
  out.set(payload, 10 + text.length);
  return out;
}

const Npy = suite("npy");

Npy("round-trips float32 tensors of rank 1 to 4", () => {
  for (const dims of [[5], [2, 3], [1, 3, 4, 5]]) {
    const data = Float32Array.from({ length: dims.reduce((a, b) => a * b) }, (_, i) => i * 0.5 - 3);
    const back = parseNpy(formatNpy({ data, dims }));
    assert.equal(back.dims, dims);
    assert.equal(Array.from(back.data), Array.from(data));
  }
});

Npy("reads numpy's own files (the fixtures)", () => {
  const x = parseNpy(readFileSync(new URL("narrow_odd.input.npy", fixturesDir)));
  assert.equal(x.dims, [3, 3, 45, 37]);
});

Npy("rejects other dtypes, Fortran order, truncation and garbage", () => {
  throwsDenseNet(() => parseNpy(npyWithHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }")), /dtype <f8 is not supported/);
  throwsDenseNet(() => parseNpy(npyWithHeader("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }")), /Fortran-order/);
  throwsDenseNet(
    () => parseNpy(npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", new Uint8Array(8))),
    /truncated data/,
  );
  throwsDenseNet(() => parseNpy(new TextEncoder().encode("not a numpy file at all")), /bad magic/);
  throwsDenseNet(() => parseNpy(npyWithHeader("{'descr': '<f4'}")), /malformed header/);
});

Npy.run();

const St = suite("safetensors");

St("reads F32 tensors and keeps I64 ones as non-float entries", () => {
  const tensors = parseSafetensors(readFileSync(new URL("legacy_keys.safetensors", fixturesDir)));
  const conv0 = tensors.get("features.conv0.weight");
  assert.equal(conv0.shape, [8, 3, 7, 7]);
  assert.is(conv0.data.length, 8 * 3 * 49);
  const counter = [...tensors.entries()].find(([k]) => k.endsWith("num_batches_tracked"))[1];
  assert.is(counter.dtype, "I64");
  assert.is(counter.data, null);
});

St("converts F16 and BF16 to float32", () => {
  const half = new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x3555]).buffer); // 1, -2, ~0.333
  const bf16 = new Uint8Array(new Uint16Array([0x3f80, 0x4040]).buffer); // 1, 3
  const data = new Uint8Array(10);
  data.set(half, 0);
  data.set(bf16, 6);
  const t = parseSafetensors(
    safetensors(
      {
        h: { dtype: "F16", shape: [3], data_offsets: [0, 6] },
        b: { dtype: "BF16", shape: [2], data_offsets: [6, 10] },
      },
      data,
    ),
  );
  assert.equal(
    Array.from(t.get("h").data).map((v) => +v.toFixed(3)),
    [1, -2, 0.333],
  );
  assert.equal(Array.from(t.get("b").data), [1, 3]);
});

St("rejects truncated, garbage and inconsistent files with one line naming the problem", () => {
  const good = readFileSync(new URL("legacy_keys.safetensors", fixturesDir));
  throwsDenseNet(() => parseSafetensors(good.subarray(0, 5)), /truncated/);
  throwsDenseNet(() => parseSafetensors(good.subarray(0, 500)), /truncated: header needs/);
  throwsDenseNet(() => parseSafetensors(good.subarray(0, good.length - 100)), /truncated: tensor '.*' ends at byte/);
  throwsDenseNet(
    () => parseSafetensors(new TextEncoder().encode("PK\u0003\u0004 this is a zip, not safetensors")),
    /not a safetensors file/,
  );
  const json = new Uint8Array(16);
  new DataView(json.buffer).setBigUint64(0, 8n, true);
  json.set(new TextEncoder().encode("{nope!!}"), 8);
  throwsDenseNet(() => parseSafetensors(json), /not valid UTF-8 JSON/);
  throwsDenseNet(
    () => parseSafetensors(safetensors({ a: { dtype: "F32", shape: [4], data_offsets: [0, 8] } }, new Uint8Array(16))),
    /should span 16 bytes/,
  );
  throwsDenseNet(() => parseSafetensors(safetensors({ a: { dtype: "Q4", shape: [4], data_offsets: [0, 8] } })), /unknown dtype/);
  throwsDenseNet(() => parseSafetensors(safetensors({ a: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } })), /invalid shape/);
  throwsDenseNet(() => parseSafetensors(safetensors({ a: { dtype: "F32", shape: [1], data_offsets: [4, 0] } })), /invalid data_offsets/);
});

St.run();
