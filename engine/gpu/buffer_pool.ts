/**
 * A pool of storage buffers by size class, so that tests, analyses and benchmarks that make and drop
 * many tensors do not create and destroy a GPU buffer each time. Training allocates its buffers
 * once and holds them; the pool matters for everything around it.
 *
 * @module
 */

/** Storage buffers here can be bound, written by the queue and copied from for readback. */
export const STORAGE_USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST |
  GPUBufferUsage.COPY_SRC;

/** Requests above this many bytes get a buffer of their own size (in 64 KiB steps), not a class. */
const EXACT_ABOVE = 64 * 2 ** 20;

/**
 * The size class of a request: the next of 2ⁿ or 1.5·2ⁿ bytes, at least 256, so a reused buffer
 * wastes at most a third and every binding may be rounded up to 16 bytes (a `vec4<f32>`). Above
 * `EXACT_ABOVE` the request rounded up to 64 KiB: a third of a model's weights (GPT-2 small's
 * 622 MiB took a 768 MiB class) is memory too (on a software adapter, the process's), and buffers
 * that large are made once and held, so a class buys no reuse.
 *
 * @example
 * ```ts
 * import { sizeClass } from "./buffer_pool.ts";
 * sizeClass(1000); // 1024
 * sizeClass(1100); // 1536
 * sizeClass(652_000_000); // 652_017_664: 9,949 × 64 KiB, not 768 MiB
 * ```
 */
export function sizeClass(bytes: number): number {
  if (bytes > EXACT_ABOVE) return Math.ceil(bytes / 65536) * 65536;
  let size = 256;
  while (size < bytes) {
    if (size * 1.5 >= bytes) return size * 1.5;
    size *= 2;
  }
  return size;
}

/**
 * Free buffers kept by size class. `acquire` returns a free one or creates one; `release` puts one
 * back. Contents of an acquired buffer are whatever its last user left: callers write before read.
 *
 * @example
 * ```ts ignore
 * import { BufferPool } from "./buffer_pool.ts";
 * const pool = new BufferPool(device);
 * const buffer = pool.acquire(4096);
 * pool.release(buffer);
 * pool.acquire(4000) === buffer; // true: same size class
 * ```
 */
export class BufferPool {
  #free = new Map<number, GPUBuffer[]>();
  #device: GPUDevice;
  /** Bytes in buffers this pool created and has not destroyed. */
  allocatedBytes = 0;

  constructor(device: GPUDevice) {
    this.#device = device;
  }

  /** A storage buffer of at least `bytes` bytes. */
  acquire(bytes: number): GPUBuffer {
    const size = sizeClass(bytes);
    const reused = this.#free.get(size)?.pop();
    if (reused !== undefined) return reused;
    this.allocatedBytes += size;
    return this.#device.createBuffer({ size, usage: STORAGE_USAGE });
  }

  /** Returns `buffer` to the pool for reuse. */
  release(buffer: GPUBuffer): void {
    const list = this.#free.get(buffer.size) ?? [];
    list.push(buffer);
    this.#free.set(buffer.size, list);
  }

  /** Destroys every free buffer (buffers still held by tensors stay alive). */
  trim(): void {
    for (const list of this.#free.values()) {
      for (const buffer of list) {
        this.allocatedBytes -= buffer.size;
        buffer.destroy();
      }
    }
    this.#free.clear();
  }
}
