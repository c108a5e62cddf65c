/**
 * A checkpoint's weights read back into a model's flat parameter layout: what resuming a run and
 * analysing it both need.
 *
 * @module
 */

import type { ParamLayout } from "../model/params.ts";
import { asRunInputError, RunInputError } from "./run_error.ts";
import { metadataStep } from "./run_schema.ts";
import { readSafetensorsEach } from "./safetensors.ts";

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
  const params = new Float32Array(layout.size);
  // Tensor by tensor into place: GPT-2 small's 498 MB are held once, not twice.
  const shapes = new Map<string, readonly number[]>();
  const place = (name: string, shape: readonly number[]) => {
    const spec = layout.byName.get(name);
    if (spec === undefined || shape.join() !== spec.shape.join()) return undefined;
    return params.subarray(spec.offset, spec.offset + spec.size);
  };
  const metadata = await asRunInputError(() =>
    readSafetensorsEach(path, (name, t) => {
      shapes.set(name, t.shape);
      const at = place(name, t.shape);
      if (at !== undefined && at.buffer !== t.data.buffer) at.set(t.data);
    }, place)
  );
  for (const spec of layout.specs) {
    const shape = shapes.get(spec.name);
    if (shape === undefined || shape.join() !== spec.shape.join()) {
      const got = shape === undefined ? "" : ` (it has [${shape}])`;
      throw new RunInputError(`checkpoint ${path} lacks ${spec.name} [${spec.shape}]${got}`);
    }
  }
  return { step: metadataStep(metadata, path), params };
}
