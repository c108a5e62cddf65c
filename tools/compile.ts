/**
 * `deno task compile`: builds the single `mechlab` executable with `deno compile`.
 *
 * `deno compile` needs `denort`, the runtime it copies into the executable. It downloads it from
 * dl.deno.land, or takes the file named by the `DENORT_BIN` environment variable. Offline, its
 * error is a multi-line chain; this wrapper turns that into one line that says what to do.
 *
 * Usage: `deno task compile [--output PATH] [--target TRIPLE]`.
 *
 * @module
 */

import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    output: { type: "string", default: "dist/mechlab" },
    target: { type: "string" },
  },
});

const root = new URL("..", import.meta.url).pathname;
const denort = Deno.env.get("DENORT_BIN");
if (denort !== undefined && !(await exists(denort))) {
  fail(`DENORT_BIN is set to ${denort}, which does not exist`);
}

const args = [
  "compile",
  "--allow-all",
  "--output",
  values.output,
  // All mechlab reads is imported (the WGSL as text, the page as ui/bundle.gen.ts), so the module
  // graph embeds it in the executable, except a Worker's module, which deno compile only embeds
  // when told to: the CPU trainer's workers, the server's sampler and its sequence analyses.
  "--include",
  "engine/model/cpu_fast/worker.ts",
  "--include",
  "engine/server/sample_worker.ts",
  "--include",
  "engine/server/sequence_worker.ts",
  ...(values.target ? ["--target", values.target] : []),
  "main.ts",
];
const { code, stderr } = await new Deno.Command(Deno.execPath(), {
  args,
  cwd: root,
  stdout: "inherit",
  stderr: "piped",
  env: { NO_COLOR: "1" },
}).output();
const text = new TextDecoder().decode(stderr);
if (code !== 0) {
  if (/denort|dl\.deno\.land|error sending request|dns error/i.test(text) && denort === undefined) {
    fail(
      `could not download denort for Deno ${Deno.version.deno} (no internet?); ` +
        `set DENORT_BIN to a denort ${Deno.version.deno} binary for this platform`,
    );
  }
  const first = text.split("\n").find((l) => /error/i.test(l)) ?? `deno compile exited ${code}`;
  fail(first.trim());
}
console.log(`compiled ${values.output}`);

async function exists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

function fail(message: string): never {
  console.error(`mechlab compile: ${message}`);
  Deno.exit(1);
}
