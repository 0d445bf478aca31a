#!/usr/bin/env node
// Bundles the CLI (dist/cli.js and everything it imports, with the two worker entries it
// starts) into dist/bin/, the package's `densenet` command: one file to load for a command
// instead of ~50 modules (Node 20 reads, resolves and links each ES module on its own; that
// was ~15 ms of every `densenet run`, bench/footprint.mjs). The commands' own dependencies
// (`serve`, `worker`, images) stay in chunks loaded only when run; npm packages stay external
// (resolved from node_modules as before). The library (dist/index.js) is not bundled.
// Run after tsc (npm run build:cli).
import { chmodSync, rmSync } from "node:fs";
import { build } from "esbuild";

rmSync("dist/bin", { recursive: true, force: true }); // no chunk of an earlier build left
await build({
  entryPoints: {
    cli: "dist/cli.js",
    // pool.ts and inference_thread.ts start these by URL, relative to their own chunk (dist/bin/)
    worker: "dist/runtime/worker.js",
    inference_thread_main: "dist/queue/inference_thread_main.js",
  },
  outdir: "dist/bin",
  entryNames: "[name]",
  chunkNames: "chunk-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  // src/package_files.ts: the package root seen from dist/bin/
  define: { __DENSENET_PACKAGE_ROOT__: JSON.stringify("../../") },
  logLevel: "warning",
});
chmodSync("dist/bin/cli.js", 0o755);
