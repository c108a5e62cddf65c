/**
 * Weights bigger than the adapter binds at once: GPT-2's `W_E` and `W_U` (50,257 × 768 f32,
 * 154 MB) exceed lavapipe's 128 MiB `maxStorageBufferBindingSize`, so the embedding and the
 * unembedding bind them in blocks of whole rows, each block starting on the 256-byte boundary a
 * binding's offset needs.
 *
 * @module
 */

import type { ModelContext } from "./context.ts";

/**
 * How many rows of a weight of `rows` rows of `cols` f32 one binding may hold: all of them when
 * they fit the adapter's `maxStorageBufferBindingSize`, else as many as the fewest blocks that fit
 * need, evened out, in a multiple of the rows that make 256 bytes' alignment (64 for an odd
 * `cols`). Even blocks are one shape: the unembedding's products of them share one pipeline
 * (on lavapipe GPT-2's 640 + 128 rows of W_U took two, 16 MiB of compiled code between them).
 *
 * @example
 * ```ts ignore
 * rowsPerBinding(c, c.D, c.U); // W_U [D, U]: 384 of GPT-2's 768 rows on lavapipe (640 fit)
 * ```
 */
export function rowsPerBinding(c: ModelContext, rows: number, cols: number): number {
  const fit = Math.floor(c.gpu.device.limits.maxStorageBufferBindingSize / (4 * cols));
  if (fit >= rows) return rows;
  const step = 64 / gcd(cols, 64); // rows · cols · 4 bytes is a multiple of 256
  if (fit < step) {
    throw new RangeError(
      `a weight row of ${cols} f32 is too wide for this adapter's binding size ` +
        `(${c.gpu.device.limits.maxStorageBufferBindingSize} bytes)`,
    );
  }
  const blocks = Math.ceil(rows / (fit - (fit % step)));
  return Math.ceil(rows / blocks / step) * step;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
