// Runs every test/*.test.mjs with uvu and closes with one "N passed, N failed" line, so a run
// that executed no test is visible (it also fails). Extra arguments pass through to uvu.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const uvu = fileURLToPath(new URL("../node_modules/uvu/bin.js", import.meta.url));
/** @type {NodeJS.ProcessEnv} */
const env = { ...process.env, NO_COLOR: "1" };
delete env.FORCE_COLOR;
const child = spawn(process.execPath, [uvu, "test", "\\.test\\.mjs$", "--no-color", ...process.argv.slice(2)], {
  cwd: root,
  env,
  stdio: ["ignore", "pipe", "inherit"],
});
let output = "";
child.stdout.on("data", (chunk) => {
  output += chunk;
  process.stdout.write(chunk);
});
child.on("close", (code) => {
  // uvu's own summary is the last one (a test may print a nested run's summary before it).
  const last = (label) => Number([...output.matchAll(new RegExp(`${label}:\\s+(\\d+)`, "g"))].at(-1)?.[1] ?? 0);
  const total = last("Total");
  const passed = last("Passed");
  const skipped = last("Skipped");
  const failed = total - passed - skipped;
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
  process.exitCode = code !== 0 || failed > 0 || total === 0 || skipped > 0 ? 1 : 0;
});
