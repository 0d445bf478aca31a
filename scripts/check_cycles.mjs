#!/usr/bin/env node
// Checks the import graph of src/: no cycles (type-only imports count: they couple modules
// just the same), and no module importing from a layer above its own. Data flows one way:
//   base (errors, tensors, the kernel ABI) -> formats (io/) -> graph IR (plan/graph.ts,
//   plan/window.ts) -> models (model/, onnx/: lowered to the IR) -> planning (plan/: passes,
//   packing, descriptors) -> runtime (runtime/: executing plans) -> API and applications
//   (everything else: session, CLI, images, serving, queues).
// It also keeps every module under MAX_LINES lines (small modules: split one that grows past it).
// Exits 1 with one line per problem; run by .ci/run before the tests.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

const src = fileURLToPath(new URL("../src/", import.meta.url));

/** Layers, lowest first: a module may import from its own layer and the ones before it. */
const LAYERS = [
  { name: "base", match: (f) => f === "errors.ts" || f === "tensor.ts" || f === "package_files.ts" || f.startsWith("kernels/") },
  { name: "formats", match: (f) => f.startsWith("io/") },
  { name: "graph IR", match: (f) => f === "plan/graph.ts" || f === "plan/window.ts" },
  { name: "models", match: (f) => f.startsWith("model/") || f.startsWith("onnx/") },
  { name: "planning", match: (f) => f.startsWith("plan/") },
  { name: "runtime", match: (f) => f.startsWith("runtime/") },
  { name: "API", match: () => true },
];
const layerOf = (file) => LAYERS.findIndex((l) => l.match(file));
const MAX_LINES = 400;

function sources(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith(".ts") && !name.endsWith(".d.ts") ? [path] : [];
  });
}

/** Relative module specifiers of every import/export ... from "..." and import("...") in a file. */
function specifiers(text) {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const found = [];
  for (const m of code.matchAll(
    /(?:^|[\s;])(?:import|export)\s[^;]*?from\s*["']([^"']+)["']|import\s*\(\s*["']([^"']+)["']\s*\)|^\s*import\s*["']([^"']+)["']/gm,
  )) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec.startsWith(".")) found.push(spec);
  }
  return found;
}

const files = sources(src)
  .map((p) => relative(src, p).split("\\").join("/"))
  .sort();
const known = new Set(files);
const problems = [];
const edges = new Map(files.map((f) => [f, []]));
for (const file of files) {
  const text = readFileSync(join(src, file), "utf8");
  const lines = text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
  if (lines > MAX_LINES) problems.push(`${file}: ${lines} lines, over the ${MAX_LINES} a module may have (split it)`);
  for (const spec of specifiers(text)) {
    const target = normalize(join(dirname(file), spec))
      .split("\\")
      .join("/")
      .replace(/\.js$/, ".ts");
    if (!known.has(target)) {
      problems.push(`${file}: imports '${spec}', which is not a module under src/`);
      continue;
    }
    edges.get(file).push(target);
    const [from, to] = [layerOf(file), layerOf(target)];
    if (to > from) problems.push(`${file} (${LAYERS[from].name}) imports ${target} (${LAYERS[to].name}), a later layer`);
  }
}

// Tarjan's strongly connected components: every component of more than one module is a cycle.
let counter = 0;
const index = new Map(),
  low = new Map(),
  stack = [],
  onStack = new Set();
function visit(v) {
  index.set(v, counter);
  low.set(v, counter++);
  stack.push(v);
  onStack.add(v);
  for (const w of edges.get(v)) {
    if (!index.has(w)) {
      visit(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (onStack.has(w)) {
      low.set(v, Math.min(low.get(v), index.get(w)));
    }
  }
  if (low.get(v) === index.get(v)) {
    const component = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || edges.get(v).includes(v)) problems.push(`import cycle: ${component.sort().join(" <-> ")}`);
  }
}
for (const f of files) if (!index.has(f)) visit(f);

for (const p of problems) console.error(p);
if (problems.length > 0) {
  console.error(`check_cycles: ${problems.length} problem(s) in the imports of ${files.length} modules`);
  process.exit(1);
}
console.log(
  `check_cycles: ${files.length} modules under src/, no import cycle, every import from the same or an earlier layer, none over ${MAX_LINES} lines`,
);
