// Run under Deno by test/serve_cli.test.mjs: the in-process server suites (every route, limit
// and failure) with Deno's node:http on both ends.
await import("../serve.test.mjs");
await import("../serve_limits.test.mjs");
