// The kernel modules themselves: both builds import one shared memory, export every op kernel
// the planner schedules, and hold no data segments (each worker's instance on the shared
// memory would re-write them at start-up, over live data).
import { readFileSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { OP_KERNELS } from "../dist/kernels/op_kernels.js";
import { compileKernels } from "../dist/runtime/kernels.js";

const DATA_SECTION = 11,
  DATA_COUNT_SECTION = 12;

/** The ids of a wasm binary's sections, in order. */
function sectionIds(bytes) {
  const ids = [];
  let at = 8;
  const leb = () => {
    let value = 0,
      shift = 0,
      byte;
    do {
      byte = bytes[at++];
      value |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80);
    return value >>> 0;
  };
  while (at < bytes.length) {
    const id = bytes[at++];
    const size = leb();
    ids.push(id);
    at += size;
  }
  return ids;
}

const Module = suite("kernel modules");

for (const file of ["kernels.wasm", "kernels.relaxed.wasm"]) {
  Module(`${file}: shared imported memory, every op kernel exported, no data segments`, async () => {
    await compileKernels(); // enables relaxed SIMD where the engine has it behind a flag
    const bytes = readFileSync(new URL(`../build/${file}`, import.meta.url));
    const module = new WebAssembly.Module(bytes);
    const imports = WebAssembly.Module.imports(module);
    assert.equal(
      imports.map((i) => `${i.module}.${i.name}:${i.kind}`),
      ["env.memory:memory"],
    );
    const exports = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
    for (const name of OP_KERNELS) assert.ok(exports.has(name), `exports ${name}`);
    const ids = sectionIds(bytes);
    assert.not.ok(ids.includes(DATA_SECTION) || ids.includes(DATA_COUNT_SECTION), `sections ${ids.join(",")} include data`);
  });
}

Module.run();
