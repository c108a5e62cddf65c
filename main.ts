/**
 * mechlab's command line: `mechlab <command> [flags]`. Each command lives in `cli/`; this file
 * only dispatches and prints the help.
 *
 * @module
 */

import { parseArgs } from "node:util";
import meta from "./deno.json" with { type: "json" };
import { analyze } from "./cli/analyze.ts";
import { runCli, UsageError } from "./cli/errors.ts";
import { importRun } from "./cli/import.ts";
import { sample } from "./cli/sample.ts";
import { serve } from "./cli/serve.ts";
import { sweep } from "./cli/sweep.ts";
import { tour } from "./cli/tour.ts";
import { train } from "./cli/train.ts";

interface Command {
  /** One line for `--help`. */
  summary: string;
  run: (args: string[]) => Promise<void> | void;
}

const COMMANDS: Record<string, Command> = {
  tour: {
    summary: "walk through the maths mechlab is built on: einops, einsum, sampling, SVD, Fourier",
    run: tour,
  },
  train: {
    summary: "train a toy transformer headless into runs/NAME (see `mechlab train --help`)",
    run: train,
  },
  sweep: {
    summary: "train many runs over a grid of train's flags and seeds (see `mechlab sweep --help`)",
    run: sweep,
  },
  analyze: {
    summary:
      "analyse every checkpoint of a run into runs/NAME/analysis/ (see `mechlab analyze --help`)",
    run: analyze,
  },
  import: {
    summary: "make a Hugging Face GPT-2 folder a run (see `mechlab import --help`)",
    run: importRun,
  },
  sample: {
    summary: "continue a prompt with a run's model (see `mechlab sample --help`)",
    run: sample,
  },
  serve: {
    summary: "serve the local UI on 127.0.0.1: runs, curves, starting runs, and views inside them",
    run: serve,
  },
};

/** What runs with no command: headless training of the default task, as the README promises. */
const DEFAULT_COMMAND = "train";

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    `mechlab ${meta.version}: a mechanistic-interpretability lab in one program`,
    "",
    "usage: mechlab <command> [flags]      (no command runs `" + DEFAULT_COMMAND + "`)",
    "",
    "commands:",
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    "",
    "flags:",
    "  -h, --help     this help; `mechlab <command> --help` for a command's flags",
    "  -V, --version  the version",
  ].join("\n");
}

await runCli(async () => {
  const [first, ...rest] = Deno.args;
  if (first === undefined || first.startsWith("-")) {
    const { values } = parseArgs({
      args: Deno.args,
      options: { help: { type: "boolean", short: "h" }, version: { type: "boolean", short: "V" } },
      strict: false,
    });
    if (values.help) return console.log(help());
    if (values.version) return console.log(meta.version);
    if (first !== undefined) throw new UsageError(`unknown flag '${first}'; see --help`);
  }
  const name = first ?? DEFAULT_COMMAND;
  const command = COMMANDS[name];
  if (command === undefined) throw new UsageError(`unknown command '${name}'; see --help`);
  await command.run(first === undefined ? [] : rest);
});
