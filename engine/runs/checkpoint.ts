/**
 * A checkpoint's weights read back into a model's flat parameter layout: what resuming a run and
 * analysing it both need.
 *
 * @module
 */

import type { ParamLayout } from "../model/params.ts";
import { readSafetensors } from "./safetensors.ts";

/**
 * The flat weights (in `layout`) of the checkpoint at `path`, and the step it records; a missing
 * weight or a wrong shape is a one-line error naming it.
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
  const weights = await readSafetensors(path);
  const params = new Float32Array(layout.size);
  for (const spec of layout.specs) {
    const t = weights.tensors.get(spec.name);
    if (t === undefined || t.shape.join() !== spec.shape.join()) {
      throw new Error(`checkpoint ${path} lacks ${spec.name} [${spec.shape}]`);
    }
    params.set(t.data, spec.offset);
  }
  return { step: Number(weights.metadata.step), params };
}
