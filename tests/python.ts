/**
 * What the tests that check mechlab against Python share: python3 with numpy (required under
 * `CI=true`, where `.ci/run` installs it; elsewhere those tests are ignored without it), and a
 * runner for the committed scripts that prints their JSON.
 *
 * @module
 */

import { join } from "node:path";
import type { ModelConfig } from "../engine/model/config.ts";
import { encodeSafetensors } from "../engine/runs/mod.ts";
import type { Tensor } from "../engine/tensor/mod.ts";
import { withTempDir } from "./helpers.ts";
import { Requirement } from "./requirements.ts";

async function havePythonNumpy(): Promise<boolean> {
  try {
    const { code } = await new Deno.Command("python3", {
      args: ["-c", "import numpy"],
      stdout: "null",
      stderr: "null",
    }).output();
    return code === 0;
  } catch {
    return false;
  }
}

/** python3 with numpy on PATH. */
export const NUMPY = new Requirement(
  "numpy tests",
  await havePythonNumpy()
    ? undefined
    : "no python3 with numpy on PATH (apt-get install python3-numpy)",
);

/**
 * Runs `python3 ARGS` (in `cwd`, with `env` added) and parses its stdout as JSON; throws with its
 * stderr if it exits non-zero.
 *
 * @example
 * ```ts ignore
 * const seen = await python(["fixtures/read_safetensors.py", "a.safetensors"]);
 * ```
 */
export async function python<T = unknown>(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<T> {
  const out = await new Deno.Command("python3", { args, ...options }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  if (out.code !== 0) throw new Error(`python3 ${args.join(" ")}: ${text(out.stderr)}`);
  return JSON.parse(text(out.stdout)) as T;
}

/**
 * numpy's loss at every position of `tokens [N, n_ctx]` under `weights` (fixtures/numpy_forward.py
 * --positions, float64): null where the target is unscored.
 */
export async function numpyLoss(
  cfg: ModelConfig,
  weights: Map<string, Tensor>,
  data: { tokens: Int32Array; targets: Int32Array },
): Promise<(number | null)[][]> {
  return await withTempDir(async (dir) => {
    const rows = (a: Int32Array) =>
      Array.from(
        { length: a.length / cfg.n_ctx },
        (_, n) => Array.from(a.subarray(n * cfg.n_ctx, (n + 1) * cfg.n_ctx)),
      );
    await Deno.writeTextFile(join(dir, "model.json"), JSON.stringify(cfg));
    await Deno.writeFile(
      join(dir, "weights.safetensors"),
      encodeSafetensors(weights, undefined, { dtype: "F64" }),
    );
    await Deno.writeTextFile(
      join(dir, "tokens.json"),
      JSON.stringify({ tokens: rows(data.tokens), targets: rows(data.targets) }),
    );
    const out = await python<{ loss: (number | null)[][] }>([
      "fixtures/numpy_forward.py",
      "--positions",
      dir,
    ]);
    return out.loss;
  });
}
