// Preloaded by bench/footprint.mjs (node --require) where /usr/bin/time is not installed:
// at exit, writes the process's peak resident set (VmHWM, kB) to $HWM_AT_EXIT_FILE.
const { readFileSync, writeFileSync } = require('node:fs');

process.on('exit', () => {
  const kb = /VmHWM:\s*(\d+)\s*kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  if (kb && process.env.HWM_AT_EXIT_FILE) writeFileSync(process.env.HWM_AT_EXIT_FILE, kb);
});
