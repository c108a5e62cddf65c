/**
 * `mechlab train`: trains a toy transformer headless from flags into a run folder. A preset gives
 * every setting; flags override it; the resolved configuration is printed first. A progress line
 * is redrawn on a terminal and printed as plain lines otherwise. Ctrl-C or SIGTERM stops after the
 * current step with a checkpoint there, and exits 130 (143 for SIGTERM); `--resume runs/NAME`
 * continues a run to the same result, and `--resume runs/NAME --steps N` extends it.
 *
 * @module
 */

import { dirname } from "node:path";
import meta from "../deno.json" with { type: "json" };
import { hasHardwareGpu } from "../engine/gpu/mod.ts";
import { defaultPreset, defaultRunName, resolveConfig } from "../engine/train/presets.ts";
import { freeRunName, type RunConfig, RunInputError } from "../engine/runs/mod.ts";
import { resumeRun, startRun } from "../engine/train/run.ts";
import { parseDevice } from "./args.ts";
import { readTrainFlags, trainHelp } from "./train_flags.ts";
import { shownCommand } from "./self_command.ts";
import { UsageError } from "./errors.ts";

/** The flags `--resume` takes: the rest of the configuration is the run's own. */
const RESUME_FLAGS = ["resume", "steps", "device"];

/**
 * The resolved configuration, a section a line, as the run starts.
 *
 * @example
 * ```ts ignore
 * console.log(describe(resolveConfig("smoke", {}, "0.1.0"))); // "mechlab 0.1.0, preset smoke\n  task ..."
 * ```
 */
export function describe(config: RunConfig): string {
  const line = (name: string, o: object) =>
    `  ${name.padEnd(6)}${
      Object.entries(o).map(([k, v]) => `${k}=${shown(v)}`)
        .join(" ")
    }`;
  return [
    `mechlab ${config.mechlab_version}, preset ${config.preset}`,
    line("task", config.task),
    line("model", config.model),
    line("train", config.train),
  ].join("\n");
}

/** A config value on the config line: a number to 6 digits, a string with a control character quoted. */
function shown(v: unknown): string {
  if (typeof v === "number") return String(+v.toPrecision(6));
  return typeof v === "string" && /\p{Cc}/u.test(v) ? JSON.stringify(v) : String(v);
}

/**
 * A progress printer for a run: redrawn in place on a terminal, a line per evaluation otherwise.
 *
 * @example
 * ```ts ignore
 * const report = progress(config);
 * report(100, { "train/loss": 0.5, "test/acc": 0.9 });
 * ```
 */
export function progress(config: RunConfig): (step: number, m: Record<string, number>) => void {
  const tty = Deno.stdout.isTerminal();
  const t0 = performance.now();
  let first: { step: number; time: number } | undefined;
  const encoder = new TextEncoder();
  return (step: number, m: Record<string, number>) => {
    const now = performance.now();
    first ??= { step, time: now };
    const rate = (step - first.step) / Math.max(1e-9, (now - first.time) / 1000);
    const eta = rate > 0 ? (config.train.steps - step) / rate : NaN;
    const text =
      `step ${step}/${config.train.steps} | train loss ${m["train/loss"]?.toExponential(2)}` +
      ` acc ${m["train/acc"]?.toFixed(3)} | test loss ${m["test/loss"]?.toExponential(2)}` +
      ` acc ${m["test/acc"]?.toFixed(3)} | ${rate > 0 ? rate.toFixed(1) : "-"} steps/s` +
      ` | ETA ${Number.isFinite(eta) ? `${eta.toFixed(0)}s` : "-"} | ${
        ((now - t0) / 1000).toFixed(1)
      }s`;
    if (tty) Deno.stdout.writeSync(encoder.encode(`\r\x1b[K${text}`));
    else console.log(text);
  };
}

/**
 * Runs `mechlab train` with command-line `args`.
 *
 * @example
 * ```ts ignore
 * await train(["--preset", "smoke", "--steps", "100"]);
 * ```
 */
export async function train(args: string[]): Promise<void> {
  const { help: wantHelp, overrides, run, given } = readTrainFlags(args);
  if (wantHelp) return console.log(trainHelp());
  const device = parseDevice(run.device as string | undefined);
  const stop = stopOnSignals();
  let total = 0; // the run's steps, once it starts
  let last = -1; // the last step logged: where the run ended
  let report = (_step: number, _m: Record<string, number>) => {};
  const options = {
    device,
    shouldStop: () => stop.signal !== undefined,
    log: (l: string) => console.log(l),
    onStart: (config: RunConfig, step: number) => {
      total = config.train.steps;
      last = step; // a finished run resumed logs nothing more
      report = progress(config);
    },
    onMetrics: (step: number, m: Record<string, number>) => {
      last = step;
      report(step, m);
    },
  };
  try {
    let folder;
    if (typeof run.resume === "string") {
      const extra = given.filter((f) => !RESUME_FLAGS.includes(f));
      if (extra.length > 0) {
        throw new UsageError(
          `--resume takes its configuration from the run: drop --${extra.join(", --")} ` +
            "(only --steps, to extend it, and --device go with --resume)",
        );
      }
      const steps = overrides.train.steps;
      const extend = steps === undefined ? {} : { steps };
      folder = await resumeRun(run.resume, { ...options, ...extend }).catch(rethrowAsUsage);
    } else {
      let preset = run.preset as string | undefined;
      if (preset === undefined) {
        const chosen = defaultPreset(device !== "cpu" && await hasHardwareGpu());
        preset = chosen.name;
        console.log(`no --preset: running '${preset}', ${chosen.why}`);
      }
      let config: RunConfig;
      try {
        config = resolveConfig(preset, overrides, meta.version);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      console.log(describe(config));
      const parent = (run.out as string | undefined) ?? "runs";
      const force = run.force === true;
      // A default name takes a free suffix (-2, -3, ...); a given one is kept, or refused.
      const name = (run.name as string | undefined) ??
        (force ? defaultRunName(config) : await freeRunName(parent, defaultRunName(config)));
      folder = await startRun(config, { parent, name, force }, options).catch(rethrowAsUsage);
    }
    if (Deno.stdout.isTerminal()) console.log();
    if (last < total) {
      console.log(`stopped early at step ${last} of ${total}, with a checkpoint there`);
      console.log(`continue it: ${shownCommand(["train", "--resume", folder.path])}`);
      Deno.exitCode = stop.signal === "SIGTERM" ? 143 : 130;
    } else {
      console.log(`run folder: ${folder.path}`);
      console.log(nextSteps(folder.path));
    }
  } finally {
    stop.remove();
  }
}

/**
 * Listens for Ctrl-C and SIGTERM: the first asks the run to stop after its current step, with a
 * checkpoint; later ones are ignored with a word, so that checkpoint is always written (a process
 * that must die at once can be killed, and resumed from its last checkpoint). `sweep` stops its
 * member the same way, and starts no other.
 *
 * @example
 * ```ts ignore
 * const stop = stopOnSignals();
 * try { await startRun(config, where, { device, shouldStop: () => stop.signal !== undefined }); }
 * finally { stop.remove(); }
 * ```
 */
export function stopOnSignals(): { signal: Deno.Signal | undefined; remove: () => void } {
  const names: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  const state = {
    signal: undefined as Deno.Signal | undefined,
    remove: () => names.forEach((n, i) => Deno.removeSignalListener(n, listeners[i]!)),
  };
  const listeners = names.map((name) => () => {
    if (state.signal !== undefined) {
      console.error("\nalready stopping: writing the checkpoint of this step, then exiting");
      return;
    }
    state.signal = name;
    console.error("\nstopping after this step, with a checkpoint (further Ctrl-C are ignored)");
  });
  names.forEach((n, i) => Deno.addSignalListener(n, listeners[i]!));
  return state;
}

/** What to do with a finished run: the commands that analyse it and show it, as this program. */
function nextSteps(path: string): string {
  const parent = dirname(path);
  const serveArgs = parent === "runs" ? ["serve"] : ["serve", "--runs", parent];
  return [
    "next:",
    `  ${shownCommand(["analyze", "--run", path])}   (analyse its checkpoints)`,
    `  ${shownCommand(serveArgs)}   (see its curves and views in the browser)`,
  ].join("\n");
}

/**
 * Run-folder errors (`RunInputError`) and bad values are the user's to fix: exit 2, one line.
 *
 * @example
 * ```ts ignore
 * await startRun(config, where, options).catch(rethrowAsUsage);
 * ```
 */
export function rethrowAsUsage(e: unknown): never {
  const err = e as Error;
  if (err instanceof RangeError || err instanceof RunInputError) {
    throw new UsageError(err.message.split("\n")[0]!);
  }
  throw err;
}
