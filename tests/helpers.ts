/**
 * What the tests share: closeness against a stated tolerance with the max difference reported,
 * and fixtures made by the committed numpy scripts in `fixtures/`.
 *
 * @module
 */

import { AssertionError } from "node:assert/strict";
import { maxAbsDiff, Tensor, tensor } from "../engine/tensor/mod.ts";

/**
 * Asserts `max |actual - expected| <= tol`, and that the shapes agree when both are tensors. The
 * message names what was compared, the max difference and the tolerance.
 */
export function assertClose(
  actual: Tensor | ArrayLike<number>,
  expected: Tensor | ArrayLike<number>,
  tol: number,
  what = "value",
): void {
  if (actual instanceof Tensor && expected instanceof Tensor) {
    if (actual.shape.join() !== expected.shape.join()) {
      throw new AssertionError({
        message: `${what}: shape [${actual.shape}] differs from expected [${expected.shape}]`,
      });
    }
  }
  const diff = maxAbsDiff(actual, expected);
  if (!(diff <= tol)) {
    throw new AssertionError({ message: `${what}: max |diff| ${diff} > tolerance ${tol}` });
  }
}

/** A fixture array as written by the numpy scripts: `{ "shape": [...], "data": [...] }`. */
export interface FixtureArray {
  shape: number[];
  data: number[];
  dtype?: "f32" | "f64" | "i32";
}

/** Reads `fixtures/NAME.json`. */
export async function loadFixture<T = unknown>(name: string): Promise<T> {
  const url = new URL(`../fixtures/${name}.json`, import.meta.url);
  return JSON.parse(await Deno.readTextFile(url)) as T;
}

/** A fixture array as a tensor (f64 unless the fixture says otherwise). */
export function fromFixture(a: FixtureArray): Tensor {
  return tensor(a.data, a.shape, a.dtype ?? "f64");
}

/**
 * Central finite differences in float64: the gradient of the scalar `f` at `x`, one coordinate at
 * a time (`x` is restored after each). The independent check of every backward pass.
 */
export function numericGrad(
  f: (x: Float64Array) => number,
  x: Float64Array,
  eps = 1e-6,
): Float64Array {
  const grad = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const saved = x[i]!;
    x[i] = saved + eps;
    const up = f(x);
    x[i] = saved - eps;
    const down = f(x);
    x[i] = saved;
    grad[i] = (up - down) / (2 * eps);
  }
  return grad;
}

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/**
 * Runs `mechlab ARGS` as a person would, in a subprocess: its exit code, stdout and stderr.
 * `--check`: the command line is type-checked here too, since `deno run` alone does not.
 */
export function mechlab(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return mechlabWithEnv({}, ...args);
}

/**
 * `mechlab ARGS` in a subprocess whose environment is this one's with `env` applied: a name set
 * to `undefined` is removed (as a fresh login without it would have it).
 *
 * @example
 * ```ts ignore
 * const { err } = await mechlabWithEnv({ XDG_RUNTIME_DIR: undefined }, "train", "--help");
 * ```
 */
export async function mechlabWithEnv(
  env: Record<string, string | undefined>,
  ...args: string[]
): Promise<{ code: number; out: string; err: string }> {
  const merged: Record<string, string> = { ...Deno.env.toObject(), NO_COLOR: "1" };
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete merged[name];
    else merged[name] = value;
  }
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--check", "-A", MAIN, ...args],
    env: merged,
    clearEnv: true,
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code, out: text(stdout), err: text(stderr) };
}

/** Runs `fn` with a fresh temporary folder, removed afterwards whatever happens. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir();
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The names in a folder, sorted. */
export async function listDir(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

/**
 * How long a test waits for what a loaded 2-core machine does eventually (a run's next event, an
 * analysis to end, a page to update): far beyond what it takes there, since a wait that runs out
 * fails for the machine's load, not the code's. Speed is measured by `deno task bench`.
 */
export const PATIENCE_MS = 300_000;

/**
 * Waits until `check` returns true (polled every 100 ms), or fails after `ms` naming `what`.
 *
 * @example
 * ```ts ignore
 * await until("the run to finish", async () => (await status()) === "finished");
 * ```
 */
export async function until(
  what: string,
  check: () => Promise<boolean>,
  ms = PATIENCE_MS,
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
