// The `densenet` command: run/info/bench end to end, and bad input as one line on stderr
// with exit code 1 (never a stack trace or a hang).
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { formatNpy, parseNpy } from "../dist/index.js";
import { densenet, failsWith } from "./cli_helpers.mjs";
import { fixture } from "./helpers.mjs";

const tmp = mkdtempSync(join(tmpdir(), "densenet-cli-"));

const Cli = suite("densenet CLI");

Cli("run writes the logits of a safetensors model for an .npy batch", () => {
  const out = join(tmp, "y.npy");
  const r = densenet("run", "--model", fixture("narrow_odd.safetensors"), "--input", fixture("narrow_odd.input.npy"), "--output", out);
  assert.is(r.code, 0, r.stderr);
  const y = parseNpy(readFileSync(out)),
    ref = parseNpy(readFileSync(fixture("narrow_odd.output.npy")));
  assert.equal(y.dims, [3, 7]);
  const maxRef = Math.max(...ref.data.map(Math.abs));
  ref.data.forEach((v, i) => assert.ok(Math.abs(y.data[i] - v) <= 1e-4 * maxRef, `logit ${i}`));
});

Cli("info reports configuration, parameters, MACs and peak activation memory", () => {
  const r = densenet("info", "--model", "densenet121", "--json");
  assert.is(r.code, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  assert.equal(info.block_config, [6, 12, 24, 16]);
  assert.is(info.parameters, 7978856);
  assert.ok(Math.abs(info.macs / 2.834e9 - 1) < 0.001, `macs ${info.macs}`);
  assert.ok(info.peak_activation_bytes <= 8 * 2 ** 20, `peak ${info.peak_activation_bytes}`);
  const text = densenet("info", "--model", fixture("bc_style.safetensors"));
  assert.match(text.stdout, /growth_rate=12, block_config=\(4, 4, 4\), num_init_features=24, bn_size=4, num_classes=10/);
});

Cli("bench --json prints one object with the timing fields", () => {
  const r = densenet("bench", "--model", fixture("bc_style.safetensors"), "--size", "64", "--batch", "2", "--runs", "2", "--json");
  assert.is(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  for (const key of ["median_ms", "min_ms", "batch", "threads", "size", "model"]) assert.ok(key in result, key);
  assert.is(result.batch, 2);
  assert.ok(result.median_ms > 0 && result.min_ms <= result.median_ms);
});

Cli("bad model files are one-line errors", () => {
  const good = readFileSync(fixture("legacy_keys.safetensors"));
  const truncated = join(tmp, "truncated.safetensors");
  writeFileSync(truncated, good.subarray(0, good.length / 2));
  failsWith(["info", "--model", truncated], /truncated/);
  const garbage = join(tmp, "garbage.safetensors");
  writeFileSync(garbage, Buffer.from("this is not a model, just some text that goes on"));
  failsWith(["info", "--model", garbage], /not a safetensors file/);
  failsWith(["info", "--model", join(tmp, "missing.safetensors")], /cannot read model file .*ENOENT/);
  failsWith(["info", "--model", "resnet50"], /unknown model 'resnet50'/);
});

Cli("bad inputs and flags are one-line errors", () => {
  const model = fixture("legacy_keys.safetensors");
  const write = (name, bytes) => {
    const p = join(tmp, name);
    writeFileSync(p, bytes);
    return p;
  };
  const rank3 = write("rank3.npy", formatNpy({ data: new Float32Array(3 * 32 * 32), dims: [3, 32, 32] }));
  failsWith(["run", "--model", model, "--input", rank3, "--output", join(tmp, "o.npy")], /rank 4/);
  const gray = write("gray.npy", formatNpy({ data: new Float32Array(32 * 32), dims: [1, 1, 32, 32] }));
  failsWith(["run", "--model", model, "--input", gray, "--output", join(tmp, "o.npy")], /has 1 channels, the model expects 3/);
  const fortran = Buffer.from(formatNpy({ data: new Float32Array(3 * 32 * 32), dims: [1, 3, 32, 32] }));
  fortran.write("True ", fortran.indexOf("False"), "latin1");
  failsWith(["run", "--model", model, "--input", write("f.npy", fortran), "--output", join(tmp, "o.npy")], /Fortran-order/);
  const f64 = Buffer.from(formatNpy({ data: new Float32Array(3 * 32 * 32), dims: [1, 3, 32, 32] }));
  f64.write("<f8", f64.indexOf("<f4"), "latin1");
  failsWith(["run", "--model", model, "--input", write("d.npy", f64), "--output", join(tmp, "o.npy")], /dtype <f8 is not supported/);
  failsWith(["run", "--model", model, "--output", join(tmp, "o.npy")], /--input is required/);
  failsWith(["bench", "--model", model, "--threads", "lots"], /--threads must be an integer/);
  failsWith(["bench", "--model", model, "--frobnicate"], /Unknown option '--frobnicate'/);
  failsWith(["explode"], /unknown command 'explode'/);
});

Cli.run();
