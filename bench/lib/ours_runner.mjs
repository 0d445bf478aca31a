// densenet-wasm as a bench/lib/harness.mjs adapter: the built package (dist/, build/*.wasm),
// loading the same .safetensors the peers' exports come from.
//
//   node bench/lib/harness.mjs --adapter bench/lib/ours_runner.mjs --safetensors m.safetensors ...
import { readFileSync } from "node:fs";
import { Session } from "../../dist/index.js";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));

export async function load({ safetensors, threads }) {
  if (!safetensors) throw new Error("densenet-wasm needs --safetensors");
  const session = await Session.create(safetensors, { threads });
  const kernels = session.info.kernels;
  return {
    info: {
      runtime: "densenet-wasm",
      version: pkg.version,
      backend: kernels === "relaxed-simd" ? "relaxed SIMD" : (kernels ?? "SIMD"),
      kernels,
      threads_effective: session.threads,
    },
    run: (input) => session.run(input),
    release: () => session.release(),
  };
}
