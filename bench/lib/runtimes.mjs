// The runtimes `npm run bench` (bench/suite.mjs) measures. Every one runs in its own child
// process through bench/lib/harness.mjs with its adapter module (load() -> run()).
//
//   id         --runtimes name
//   adapter    module with load({ safetensors, onnx, threads }), relative to the repo root
//   packages   what must be installed in bench/peers/node_modules (peers only)
//   model      which export it loads: our .safetensors, or the .onnx made from the same state_dict
export const RUNTIMES = [
  {
    id: "densenet-wasm",
    label: "densenet-wasm",
    adapter: "bench/lib/ours_runner.mjs",
    peer: false,
    packages: [],
    model: "safetensors",
    color: "#d62728",
  },
  {
    id: "onnxruntime-web",
    label: "onnxruntime-web",
    adapter: "bench/peers/ort_web_runner.mjs",
    peer: true,
    packages: ["onnxruntime-web"],
    model: "onnx",
    color: "#1f77b4",
  },
  {
    id: "onnxruntime-node",
    label: "onnxruntime-node",
    adapter: "bench/peers/ort_node_runner.mjs",
    peer: true,
    packages: ["onnxruntime-node"],
    model: "onnx",
    color: "#2ca02c",
  },
  {
    id: "tfjs",
    label: "tfjs",
    adapter: "bench/peers/tfjs_runner.mjs",
    peer: true,
    packages: ["@tensorflow/tfjs", "@tensorflow/tfjs-backend-wasm"],
    model: "safetensors",
    color: "#ff7f0e",
  },
];

export const RUNTIME_IDS = RUNTIMES.map((r) => r.id);
export const OURS = "densenet-wasm";
export const runtimeById = (id) => RUNTIMES.find((r) => r.id === id);
