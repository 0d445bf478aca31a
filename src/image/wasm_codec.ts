// Loading an @jsquash codec (an Emscripten module) without a network: the package's own .wasm
// bytes are read from its directory and compiled once; each instance captures libjpeg's /
// libwebp's messages instead of printing them. An instance whose C code called exit() (a
// fatal libjpeg error) is dropped, and the next call starts a fresh one from the compiled module.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

type Factory<T> = (options: Record<string, unknown>) => Promise<T>;

export class WasmCodec<T> {
  private compiled: Promise<WebAssembly.Module> | null = null;
  private instance: Promise<T> | null = null;
  /** The C library's messages (warnings, the fatal error) since the last `run`. */
  messages: string[] = [];

  /**
   * @param jsPath the Emscripten glue, e.g. "@jsquash/jpeg/codec/dec/mozjpeg_dec.js"; its .wasm
   *   is the file of the same name beside it.
   */
  constructor(private readonly jsPath: string) {}

  private resolve(): URL {
    // import.meta.resolve is Node >= 20.6 and Deno; require.resolve finds the package elsewhere.
    const js =
      typeof import.meta.resolve === "function"
        ? import.meta.resolve(this.jsPath)
        : pathToFileURL(createRequire(import.meta.url).resolve(this.jsPath)).href;
    return new URL(js.replace(/\.js$/, ".wasm"));
  }

  private async create(): Promise<T> {
    this.compiled ??= readFile(this.resolve()).then((bytes) => WebAssembly.compile(bytes));
    const wasm = await this.compiled;
    const factory = (await import(this.jsPath)).default as Factory<T>;
    return factory({
      noInitialRun: true,
      print: () => {},
      printErr: (line: string) => this.messages.push(line),
      instantiateWasm(imports: WebAssembly.Imports, done: (instance: WebAssembly.Instance) => void) {
        const inst = new WebAssembly.Instance(wasm, imports);
        done(inst);
        return inst.exports;
      },
    });
  }

  /**
   * Drops the instance, freeing its linear memory (which only grows: after a large image it
   * would keep that image's size); the next `run` instantiates the compiled module again.
   */
  reset(): void {
    this.instance = null;
  }

  /**
   * Runs `fn` on the module (synchronously, so the messages are this call's). If it throws, the
   * instance is dropped and the error is rethrown as `onError(first message or the error's)`.
   */
  async run<R>(fn: (module: T) => R, onError: (why: string) => Error): Promise<R> {
    this.instance ??= this.create();
    const module = await this.instance;
    this.messages = [];
    try {
      return fn(module);
    } catch (e) {
      this.instance = null;
      const why = this.messages.find((m) => m.trim()) ?? (e instanceof Error ? e.message : String(e));
      throw onError(why.trim());
    }
  }
}
