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
  const total = Number(/Total:\s+(\d+)/.exec(output)?.[1] ?? 0);
  const passed = Number(/Passed:\s+(\d+)/.exec(output)?.[1] ?? 0);
  const skipped = Number(/Skipped:\s+(\d+)/.exec(output)?.[1] ?? 0);
  const failed = total - passed - skipped;
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
  process.exitCode = code !== 0 || failed > 0 || total === 0 || skipped > 0 ? 1 : 0;
});
