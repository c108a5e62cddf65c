/**
 * A checkpoint's weights read back into a model's flat parameter layout: what resuming a run and
 * analysing it both need.
 *
 * @module
 */

import type { ParamLayout } from "../model/params.ts";
import { asRunInputError, RunInputError } from "./run_error.ts";
import { metadataStep } from "./run_schema.ts";
import { readSafetensors } from "./safetensors.ts";

/**
 * The flat weights (in `layout`) of the checkpoint at `path`, and the step it records; a missing
 * weight, a wrong shape, a step that is not a whole number or a corrupt file is a one-line
 * `RunInputError` naming it.
 *
 * @example
 * ```ts ignore
 * const { step, params } = await readCheckpointParams("runs/smoke/checkpoints/final.safetensors", layout);
 * ```
 */
export async function readCheckpointParams(
  path: string,
  layout: ParamLayout,
): Promise<{ step: number; params: Float32Array }> {
  const weights = await asRunInputError(() => readSafetensors(path));
  const params = new Float32Array(layout.size);
  for (const spec of layout.specs) {
    const t = weights.tensors.get(spec.name);
    if (t === undefined || t.shape.join() !== spec.shape.join()) {
      const got = t === undefined ? "" : ` (it has [${t.shape}])`;
      throw new RunInputError(`checkpoint ${path} lacks ${spec.name} [${spec.shape}]${got}`);
    }
    params.set(t.data, spec.offset);
  }
  return { step: metadataStep(weights.metadata, path), params };
}
