// Where the package's own files are (build/*.wasm, models/, data/, package.json): resolved
// against the package root, so that every module finds them the same way, unbundled in
// dist/ or bundled into the CLI in dist/bin/ (scripts/bundle_cli.mjs).

/**
 * The package root relative to this module: "../" from dist/package_files.js. The CLI bundle
 * defines __DENSENET_PACKAGE_ROOT__ ("../../" from dist/bin/, where every chunk of it lies);
 * unbundled, the name is undeclared and typeof gives "undefined".
 */
declare const __DENSENET_PACKAGE_ROOT__: string | undefined;
const ROOT = new URL(typeof __DENSENET_PACKAGE_ROOT__ === "string" ? __DENSENET_PACKAGE_ROOT__ : "../", import.meta.url);

/** The URL of `path` (relative to the package root, e.g. "build/kernels.wasm"). */
export function packageFile(path: string): URL {
  return new URL(path, ROOT);
}
