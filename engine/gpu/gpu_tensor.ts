/**
 * A tensor that lives on the GPU: a storage buffer (or a slice of one), a shape and a dtype. Data
 * goes up with `Gpu.upload` and comes back in bulk with `Gpu.read`; kernels bind it by its
 * `binding()`. Row-major and contiguous, like the CPU `Tensor`.
 *
 * @module
 */

/** What a GPU tensor holds: f32 for values, i32 for token ids, targets and counters. */
export type GpuDtype = "f32" | "i32";

/** Rounds a byte length up to a multiple of 16, so every binding can be read as `vec4` words. */
export function bindingSize(bytes: number): number {
  return Math.ceil(bytes / 16) * 16;
}

/**
 * A GPU tensor: `shape` elements of `dtype` starting `offset` bytes into `buffer`.
 *
 * @example
 * ```ts ignore
 * import { requestGpu } from "./mod.ts";
 * const gpu = await requestGpu();
 * const x = gpu.upload(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
 * const [back] = await gpu.read([x]); // a CPU Tensor, f32, [2, 3]
 * x.release();
 * ```
 */
export class GpuTensor {
  readonly buffer: GPUBuffer;
  readonly shape: readonly number[];
  readonly dtype: GpuDtype;
  /** Byte offset into `buffer`. */
  readonly offset: number;
  readonly #onRelease: ((buffer: GPUBuffer) => void) | undefined;

  constructor(
    buffer: GPUBuffer,
    shape: readonly number[],
    options: { dtype?: GpuDtype; offset?: number; onRelease?: (buffer: GPUBuffer) => void } = {},
  ) {
    this.buffer = buffer;
    this.shape = [...shape];
    this.dtype = options.dtype ?? "f32";
    this.offset = options.offset ?? 0;
    this.#onRelease = options.onRelease;
    // Bindings are rounded up to 16 bytes, so the rounded range must fit too.
    if (this.offset + bindingSize(this.byteLength) > buffer.size) {
      throw new RangeError(
        `GPU tensor [${shape}] at byte ${this.offset} overruns its ${buffer.size}-byte buffer`,
      );
    }
  }

  /** The number of elements. */
  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  /** The bytes its elements take (4 each). */
  get byteLength(): number {
    return this.size * 4;
  }

  /** The buffer range a bind group binds: its bytes, rounded up to 16. */
  binding(): GPUBufferBinding {
    return { buffer: this.buffer, offset: this.offset, size: bindingSize(this.byteLength) };
  }

  /**
   * A tensor over `shape` elements of the same buffer, `elementOffset` elements in. The byte offset
   * must meet the device's `minStorageBufferOffsetAlignment` to be bound (256 bytes is always safe).
   */
  view(elementOffset: number, shape: readonly number[]): GpuTensor {
    return new GpuTensor(this.buffer, shape, {
      dtype: this.dtype,
      offset: this.offset + elementOffset * 4,
    });
  }

  /** Gives the buffer back to the pool it came from (a view gives nothing back). */
  release(): void {
    this.#onRelease?.(this.buffer);
  }
}
