/**
 * A checkpoint's weights read back into a model's flat parameter layout: what resuming a run and
 * analysing it both need.
 *
 * @module
 */

import type { ParamLayout, ParamSpec } from "../model/params.ts";
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
  // Each F32 tensor read straight into its place: GPT-2 small's weights are held once, not twice.
  const place = (spec: ParamSpec) => params.subarray(spec.offset, spec.offset + spec.size);
  const step = await readCheckpointEach(path, layout, (spec, data) => {
    if (data.buffer !== params.buffer) place(spec).set(data);
  }, place);
  return { step, params };
}

/**
 * Hands each weight of `layout` in the checkpoint at `path` to `visit` (awaited), one at a time
 * in the file's order, and returns the step it records; errors as `readCheckpointParams`'s (a
 * missing weight is named after the others were visited). `into` may name where a weight's f32
 * values are read to, as `readSafetensorsEach`'s: an array shorter than the weight takes it in
 * pieces, each visited with `at`, its first element's index in the weight (0 for a whole one).
 *
 * @example
 * ```ts ignore
 * await readCheckpointEach(path, layout, (spec, data) => gpu.writeAt(params, spec.offset, data));
 * ```
 */
export async function readCheckpointEach(
  path: string,
  layout: ParamLayout,
  visit: (spec: ParamSpec, data: Float32Array, at: number) => void | Promise<void>,
  into?: (spec: ParamSpec) => Float32Array,
): Promise<number> {
  const shapes = new Map<string, readonly number[]>();
  const fits = (name: string, shape: readonly number[]) => {
    const spec = layout.byName.get(name);
    return spec !== undefined && shape.join() === spec.shape.join() ? spec : undefined;
  };
  const metadata = await asRunInputError(() =>
    readSafetensorsEach(path, async (name, t, at) => {
      if (!shapes.has(name)) shapes.set(name, t.shape); // a piece's is flat: `into` saw the whole
      const spec = fits(name, shapes.get(name)!);
      if (spec === undefined) return;
      await visit(spec, t.data instanceof Float32Array ? t.data : Float32Array.from(t.data), at);
    }, (name, shape) => {
      shapes.set(name, shape);
      const spec = fits(name, shape);
      return spec === undefined || into === undefined ? undefined : into(spec);
    })
  );
  for (const spec of layout.specs) {
    const shape = shapes.get(spec.name);
    if (shape === undefined || shape.join() !== spec.shape.join()) {
      const got = shape === undefined ? "" : ` (it has [${shape}])`;
      throw new RunInputError(`checkpoint ${path} lacks ${spec.name} [${spec.shape}]${got}`);
    }
  }
  return metadataStep(metadata, path);
}
