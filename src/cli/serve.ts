// `densenet serve`: flags, model loading, the ready line, and graceful shutdown on SIGTERM/SIGINT.
//
//   --model [NAME=]PATH  a model file (or densenet121/169/201/161: random weights) served as NAME,
//                        or as the file's stem; repeatable. Default: the embedded model.
//   --host, --port       address (default 127.0.0.1:8080; --port 0: a free port, printed)
//   --threads N          threads per model (default: all cores). 1 runs on the event loop, which
//                        then stalls (health checks included) while a batch runs.
//   --max-batch 8        most images per batched run; --max-delay-ms 5: how long the first
//                        request of a batch waits for others
//   --max-queue 1024     most requests waiting (then 503 + Retry-After)
//   --timeout-ms 30000   a request not answered by then gets 504 and leaves the queue
//   --max-body-mb 64     largest body (then 413); --max-memory-mb 2048: bytes all requests may
//                        hold together (then 503); --max-sizes 16: image sizes planned per model
import { basename, extname } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_MODEL_NAME, DEFAULT_MODEL_PATH } from "../default_model.js";
import { DenseNetError } from "../errors.js";
import { InferenceServer, type ServerOptions } from "../serve/server.js";
import { MAX_BATCH, MAX_THREADS, Session, defaultThreads } from "../session.js";
import { type FlagValues, integerOf } from "./common.js";
import { modelSignature } from "../serve/protocol.js";

const OPTIONS = {
  model: { type: "string", multiple: true },
  host: { type: "string" },
  port: { type: "string" },
  threads: { type: "string" },
  "max-batch": { type: "string" },
  "max-delay-ms": { type: "string" },
  "max-queue": { type: "string" },
  "timeout-ms": { type: "string" },
  "max-body-mb": { type: "string" },
  "max-sizes": { type: "string" },
  "max-memory-mb": { type: "string" },
  seed: { type: "string" },
} as const;

type Flags = FlagValues<typeof OPTIONS>;

const integer = integerOf<Flags>;

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** `--model NAME=PATH` or `--model PATH` (named by the file's stem). */
export function parseModelSpec(spec: string): { name: string; source: string } {
  const eq = spec.indexOf("=");
  const named = eq > 0 && MODEL_NAME.test(spec.slice(0, eq));
  const source = named ? spec.slice(eq + 1) : spec;
  if (source === "") throw new DenseNetError(`--model '${spec}' names no file`);
  const name = named ? spec.slice(0, eq) : basename(source, extname(source));
  if (!MODEL_NAME.test(name)) {
    throw new DenseNetError(
      `model name '${name}' (from --model '${spec}') must be letters, digits, '.', '_' or '-'; give one as --model NAME=PATH`,
    );
  }
  return { name, source };
}

/** Runs the server until SIGTERM or SIGINT; resolves with the exit code. */
export async function serveMain(argv: string[]): Promise<number> {
  let flags: Flags;
  try {
    const parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: false, strict: true });
    flags = parsed.values as Flags;
  } catch (e) {
    throw new DenseNetError(`${(e as Error).message.split("\n")[0]} (see densenet --help)`);
  }
  const specs = (flags.model ?? [`${DEFAULT_MODEL_NAME}=${DEFAULT_MODEL_PATH}`]).map(parseModelSpec);
  const twice = specs.find((spec, i) => specs.findIndex((other) => other.name === spec.name) !== i);
  if (twice) throw new DenseNetError(`model name '${twice.name}' is given twice; name them with --model NAME=PATH`);
  const threads = integer(flags, "threads", defaultThreads(), 1, MAX_THREADS);
  const seed = integer(flags, "seed", 0, 0, 2 ** 31 - 1);
  const options: ServerOptions = {
    host: flags.host ?? "127.0.0.1",
    port: integer(flags, "port", 8080, 0, 65535),
    maxBatch: integer(flags, "max-batch", 8, 1, MAX_BATCH),
    maxDelayMs: integer(flags, "max-delay-ms", 5, 0, 60000),
    maxQueue: integer(flags, "max-queue", 1024, 1, 1_000_000),
    timeoutMs: integer(flags, "timeout-ms", 30000, 1, 3_600_000),
    maxBodyBytes: integer(flags, "max-body-mb", 64, 1, 2047) * 2 ** 20,
    maxSizes: integer(flags, "max-sizes", 16, 1, 4096),
    maxMemoryBytes: integer(flags, "max-memory-mb", 2048, 1, 1_048_576) * 2 ** 20,
  };
  const server = new InferenceServer(options);
  const { host, port } = await server.listen().catch((e: NodeJS.ErrnoException) => {
    throw new DenseNetError(`cannot listen on ${options.host}:${options.port}: ${e.code ?? e.message}`);
  });
  let stopping: Promise<void> | null = null;
  let stopped = () => {};
  const done = new Promise<void>((resolve) => {
    stopped = resolve;
  });
  const stop = () => {
    stopping ??= server.close().then(() => stopped());
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  try {
    const described: string[] = [];
    for (const { name, source } of specs) {
      const session = await Session.create(source, { threads, seed });
      if (stopping) {
        await session.release();
        break;
      }
      try {
        server.addModel(name, session);
      } catch (e) {
        await session.release();
        throw e;
      }
      const {
        inputs: [input],
        outputs: [output],
      } = modelSignature(session);
      described.push(`${name} (${input.name} [${input.shape.join(", ")}] -> ${output.name} [${output.shape.join(", ")}])`);
    }
    if (!stopping) {
      server.setReady();
      const shown = host.includes(":") ? `[${host}]` : host;
      console.log(
        `densenet serve: listening on http://${shown}:${port}; models: ${described.join(", ")}; ` +
          `${threads} thread(s), max batch ${options.maxBatch}, max delay ${options.maxDelayMs} ms`,
      );
    }
  } catch (e) {
    process.off("SIGTERM", stop);
    process.off("SIGINT", stop);
    await server.close();
    throw e;
  }
  await done;
  process.off("SIGTERM", stop);
  process.off("SIGINT", stop);
  console.log("densenet serve: stopped");
  return 0;
}
