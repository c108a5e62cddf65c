/**
 * The WebGPU device: which adapter, with which limits and features, and the few things everything
 * on the GPU shares — the pipeline cache, the buffer pool, upload, bulk readback, and submitting
 * pre-bound dispatches without waiting.
 *
 * Adapter choice: the high-performance adapter first, then any. A software adapter (Mesa's
 * llvmpipe or lavapipe, SwiftShader) is named as a fallback: it is exact enough for every test but
 * runs at a few GFLOP/s. With no adapter, `requestGpu` throws a `NoGpuError` whose message says so
 * in one line; the CPU path (`engine/tensor`) does not need a GPU.
 *
 * Deno blocks the JS thread while it waits on the GPU (`mapAsync`, `onSubmittedWorkDone`, about
 * 10 ms each at best): callers encode many dispatches per `run` and read results back in bulk.
 *
 * @module
 */

import { Tensor } from "../tensor/mod.ts";
import { BufferPool } from "./buffer_pool.ts";
import { type GpuDtype, GpuTensor } from "./gpu_tensor.ts";
import { compileShader } from "./shader.ts";

/** No WebGPU adapter could be had; the message is one line saying why. */
export class NoGpuError extends Error {
  override name = "NoGpuError";
}

/** What the adapter is, as reported in benchmarks and at the start of a run. */
export interface AdapterReport {
  /** The driver's description, e.g. "NVIDIA H100 80GB HBM3" or "llvmpipe (LLVM 15.0.6, 256 bits)". */
  description: string;
  vendor: string;
  architecture: string;
  /** A software adapter: exact, but slow. */
  isFallback: boolean;
  /** Optional features the device was created with (of those mechlab asks for). */
  features: string[];
  /** The subgroup size where `subgroups` was requested and a test shader proved it works. */
  subgroupSize: number | undefined;
}

/** One pre-bound kernel launch: encoding it costs a few calls, so it can be encoded many times. */
export interface Dispatch {
  label: string;
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: readonly [number, number, number];
  /** Scratch tensors this launch alone uses (split-K partials, say): `releaseDispatches` frees them. */
  scratch?: readonly GpuTensor[];
}

/** What a kernel launch needs: its source (placeholders already filled), entry point and buffers. */
export interface KernelLaunch {
  /** For errors and profiles, e.g. "matmul.wgsl". */
  label: string;
  source: string;
  entryPoint: string;
  /** Bound in order as `@group(0) @binding(0..)`. */
  buffers: readonly GpuTensor[];
  workgroups: readonly [number, number, number] | readonly [number, number] | readonly [number];
  /** Scratch tensors owned by this launch. */
  scratch?: readonly GpuTensor[];
}

/**
 * Gives back the scratch tensors of `dispatches` once they will not run again.
 *
 * @example
 * ```ts ignore
 * const sum = await sumRows(gpu, x, out);
 * gpu.run(sum);
 * releaseDispatches(sum);
 * ```
 */
export function releaseDispatches(dispatches: readonly Dispatch[]): void {
  for (const d of dispatches) for (const t of d.scratch ?? []) t.release();
}

/**
 * The optional features worth having when the adapter offers them: `timestamp-query`, with which
 * the kernel benchmark (bench/gpu_bench.ts) times a pass on the GPU's own clock. Nothing asks for
 * `shader-f16`: every kernel computes in f32.
 */
const WANTED_FEATURES = ["timestamp-query"] as const;
const SOFTWARE = /llvmpipe|lavapipe|swiftshader|softpipe|warp/i;

/**
 * The GPU as mechlab uses it. Get one with `requestGpu()`.
 *
 * @example
 * ```ts ignore
 * import { requestGpu } from "./mod.ts";
 * const gpu = await requestGpu();
 * console.log(gpu.describe()); // "llvmpipe (LLVM 15.0.6, 256 bits) [software fallback] ..."
 * const x = gpu.upload(new Float32Array([1, 2, 3]), [3]);
 * const [y] = await gpu.read([x]);
 * ```
 */
export class Gpu {
  readonly device: GPUDevice;
  readonly adapter: AdapterReport;
  readonly pool: BufferPool;
  #modules = new Map<string, Promise<GPUShaderModule>>();
  #pipelines = new Map<string, Promise<GPUComputePipeline>>();
  #error: string | undefined;

  constructor(device: GPUDevice, adapter: AdapterReport) {
    this.device = device;
    this.adapter = adapter;
    this.pool = new BufferPool(device);
    device.addEventListener("uncapturederror", (event) => {
      this.#error ??= (event as GPUUncapturedErrorEvent).error.message.trim();
    });
    device.lost.then((info) => {
      this.#error ??= `GPU device lost: ${info.message || info.reason}`;
    });
  }

  /** One line: the adapter, whether it is a software fallback, and its useful features. */
  describe(): string {
    const a = this.adapter;
    const features = [...a.features, ...(a.subgroupSize ? [`subgroups ${a.subgroupSize}`] : [])];
    return `${a.description}${a.isFallback ? " [software fallback]" : ""}` +
      (features.length > 0 ? ` (${features.join(", ")})` : "");
  }

  /**
   * The compute pipeline for `entryPoint` of `source`, compiled once per source and entry point.
   * Throws a `ShaderError` naming `label:line:col` on a compile error.
   */
  pipeline(source: string, entryPoint: string, label: string): Promise<GPUComputePipeline> {
    const key = `${entryPoint}\0${source}`;
    let pipeline = this.#pipelines.get(key);
    if (pipeline === undefined) {
      let module = this.#modules.get(source);
      if (module === undefined) {
        module = compileShader(this.device, source, label);
        this.#modules.set(source, module);
      }
      pipeline = module.then((m) =>
        this.device.createComputePipelineAsync({
          label: `${label}:${entryPoint}`,
          layout: "auto",
          compute: { module: m, entryPoint },
        })
      );
      this.#pipelines.set(key, pipeline);
    }
    return pipeline;
  }

  /** How many distinct pipelines have been compiled (for tests of the cache). */
  get pipelineCount(): number {
    return this.#pipelines.size;
  }

  /** A pre-bound launch of one kernel over `buffers`. */
  async kernel(launch: KernelLaunch): Promise<Dispatch> {
    const pipeline = await this.pipeline(launch.source, launch.entryPoint, launch.label);
    const bindGroup = this.device.createBindGroup({
      label: `${launch.label}:${launch.entryPoint}`,
      layout: pipeline.getBindGroupLayout(0),
      entries: launch.buffers.map((t, binding) => ({ binding, resource: t.binding() })),
    });
    const [x, y = 1, z = 1] = launch.workgroups;
    const max = this.device.limits.maxComputeWorkgroupsPerDimension;
    if (x > max || y > max || z > max) {
      throw new RangeError(`${launch.label}: ${[x, y, z]} workgroups exceed ${max} per dimension`);
    }
    return {
      label: `${launch.label}:${launch.entryPoint}`,
      pipeline,
      bindGroup,
      workgroups: [x, y, z],
      ...(launch.scratch ? { scratch: launch.scratch } : {}),
    };
  }

  /** A new tensor from the pool, contents undefined. */
  empty(shape: readonly number[], dtype: GpuDtype = "f32"): GpuTensor {
    const elements = shape.reduce((a, b) => a * b, 1);
    const buffer = this.pool.acquire(Math.max(elements * 4, 16));
    return new GpuTensor(buffer, shape, { dtype, onRelease: (b) => this.pool.release(b) });
  }

  /** A new tensor of zeros. */
  zeros(shape: readonly number[], dtype: GpuDtype = "f32"): GpuTensor {
    const t = this.empty(shape, dtype);
    const encoder = this.device.createCommandEncoder();
    encoder.clearBuffer(t.buffer, t.offset, Math.ceil(t.byteLength / 4) * 4);
    this.device.queue.submit([encoder.finish()]);
    return t;
  }

  /**
   * Uploads a CPU tensor (f64 is rounded to f32) or a typed array with its shape. Queued, not
   * waited on: the data is copied before this returns.
   */
  upload(data: Tensor | Float32Array | Int32Array, shape?: readonly number[]): GpuTensor {
    let array: Float32Array | Int32Array;
    if (data instanceof Tensor) {
      array = data.dtype === "i32" ? Int32Array.from(data.data) : Float32Array.from(data.data);
      shape ??= data.shape;
    } else {
      array = data;
    }
    shape ??= [array.length];
    const t = this.empty(shape, array instanceof Int32Array ? "i32" : "f32");
    if (t.size !== array.length) {
      t.release();
      throw new RangeError(`upload: ${array.length} values do not fill shape [${shape}]`);
    }
    this.write(t, array);
    return t;
  }

  /**
   * `upload` of a large flat array (a model's weights) through `writeLarge`.
   *
   * @example
   * ```ts ignore
   * const params = await gpu.uploadLarge(flat); // [layout.size]
   * ```
   */
  async uploadLarge(array: Float32Array): Promise<GpuTensor> {
    const t = this.empty([array.length]);
    await this.writeLarge(t, array);
    return t;
  }

  /**
   * Writes `array` into `t` from element `at`, in 4 MiB pieces, each waited on: the driver
   * stages what one `writeBuffer` copies, so one call would hold a second copy of all of it (on a
   * software adapter, beside the buffer's own: three copies of GPT-2's weights).
   *
   * @example
   * ```ts ignore
   * await gpu.writeLarge(params, W_E, spec.offset);
   * ```
   */
  async writeLarge(t: GpuTensor, array: Float32Array, at = 0): Promise<void> {
    if (at + array.length > t.size) {
      throw new RangeError(`writeLarge: ${array.length} values from ${at} overrun [${t.shape}]`);
    }
    const piece = 2 ** 20; // elements
    for (let i = 0; i < array.length; i += piece) {
      const part = array.subarray(i, i + piece) as Float32Array<ArrayBuffer>;
      this.device.queue.writeBuffer(t.buffer, t.offset + (at + i) * 4, part);
      this.device.queue.submit([]);
      await this.device.queue.onSubmittedWorkDone();
    }
  }

  /**
   * Copies `from` into `to` (the same number of elements) on the GPU, queued after everything
   * submitted before it and before everything after; not waited on.
   *
   * @example
   * ```ts ignore
   * gpu.copy(params.view(token * D, [1, D]), row); // one row of a table too large to bind
   * ```
   */
  copy(from: GpuTensor, to: GpuTensor): void {
    if (from.size !== to.size) {
      throw new RangeError(`copy: [${from.shape}] and [${to.shape}] differ in size`);
    }
    const encoder = this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(from.buffer, from.offset, to.buffer, to.offset, from.byteLength);
    this.device.queue.submit([encoder.finish()]);
  }

  /** Overwrites a tensor's contents from the CPU (queued, not waited on). */
  write(t: GpuTensor, array: Float32Array | Int32Array): void {
    // Typed arrays over a SharedArrayBuffer are not BufferSource to TypeScript; the copy is the same.
    this.device.queue.writeBuffer(t.buffer, t.offset, array as Float32Array<ArrayBuffer>);
  }

  /**
   * Encodes `dispatches` (`repeat` times over) in one compute pass and submits them. Does not wait:
   * the next `read` or `sync` waits for everything submitted before it. `timestampWrites` (where
   * the device has `timestamp-query`) has the GPU write its clock at the pass's start and end.
   */
  run(
    dispatches: readonly Dispatch[],
    options: { repeat?: number; timestampWrites?: GPUComputePassTimestampWrites } = {},
  ): void {
    const encoder = this.device.createCommandEncoder();
    const pass = encoder.beginComputePass(
      options.timestampWrites ? { timestampWrites: options.timestampWrites } : {},
    );
    let current: GPUComputePipeline | undefined;
    for (let r = 0; r < (options.repeat ?? 1); r++) {
      for (const d of dispatches) {
        if (d.pipeline !== current) pass.setPipeline(current = d.pipeline);
        pass.setBindGroup(0, d.bindGroup);
        pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
      }
    }
    pass.end();
    this.device.queue.submit([encoder.finish()]);
  }

  /**
   * Reads tensors back in one copy and one map: the cost of a wait is paid once however many
   * tensors come back. Above `READ_PIECE` bytes in all, they come back in pieces of that size
   * through one staging buffer, a map each: a staging buffer of all of it costs its size three
   * times over while it is read (the buffer, the driver's mapping, the mapped range's copy; on a
   * software adapter all of it the process's memory: GPT-2's 64 × 50,257 logits, 12.9 MB, took
   * 37 MiB to read). Throws the first GPU error seen since the last check.
   */
  read(tensors: readonly GpuTensor[]): Promise<Tensor[]> {
    const { offsets, total } = packed(tensors);
    if (total <= READ_PIECE) return this.copyOut(tensors).done();
    return this.#readPieces(tensors, offsets, total);
  }

  /**
   * `read` of more than `READ_PIECE` bytes: each piece copied once the last is read, so work
   * submitted meanwhile (by another async task: nothing mechlab does) would land between pieces.
   */
  async #readPieces(
    tensors: readonly GpuTensor[],
    offsets: readonly number[],
    total: number,
  ): Promise<Tensor[]> {
    const bytes = new ArrayBuffer(total);
    const staging = this.device.createBuffer({
      size: READ_PIECE,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    try {
      for (let p0 = 0; p0 < total; p0 += READ_PIECE) {
        const size = Math.min(READ_PIECE, total - p0);
        const encoder = this.device.createCommandEncoder();
        tensors.forEach((t, i) => {
          // The part of tensor i that falls in this piece.
          const lo = Math.max(p0, offsets[i]!);
          const hi = Math.min(p0 + size, offsets[i]! + t.byteLength);
          if (hi > lo) {
            encoder.copyBufferToBuffer(
              t.buffer,
              t.offset + lo - offsets[i]!,
              staging,
              lo - p0,
              hi - lo,
            );
          }
        });
        this.device.queue.submit([encoder.finish()]);
        await staging.mapAsync(GPUMapMode.READ, 0, size);
        this.check();
        new Uint8Array(bytes, p0, size).set(new Uint8Array(staging.getMappedRange(0, size)));
        staging.unmap();
      }
    } finally {
      staging.destroy();
    }
    return unpacked(tensors, bytes, offsets);
  }

  /**
   * Submits the copy of `tensors` now and leaves the wait for later: work submitted between this
   * call and `done()` keeps the GPU busy while the JS thread waits (in Deno a wait blocks it).
   * Queue order makes the copy see the tensors as they are now, whatever runs after it.
   */
  copyOut(tensors: readonly GpuTensor[]): { done(): Promise<Tensor[]> } {
    const { offsets, total } = packed(tensors);
    const staging = this.device.createBuffer({
      size: Math.max(total, 4),
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const encoder = this.device.createCommandEncoder();
    tensors.forEach((t, i) => {
      if (t.byteLength > 0) {
        encoder.copyBufferToBuffer(t.buffer, t.offset, staging, offsets[i]!, t.byteLength);
      }
    });
    this.device.queue.submit([encoder.finish()]);
    const done = async () => {
      try {
        await staging.mapAsync(GPUMapMode.READ);
        this.check();
        return unpacked(tensors, staging.getMappedRange().slice(0), offsets);
      } finally {
        staging.destroy();
      }
    };
    return { done };
  }

  /** Waits until the GPU has finished everything submitted, then throws any GPU error seen. */
  async sync(): Promise<void> {
    await this.device.queue.onSubmittedWorkDone();
    this.check();
  }

  /** Throws the first uncaptured GPU error (validation, out of memory, device lost), once. */
  check(): void {
    const error = this.#error;
    if (error !== undefined) {
      this.#error = undefined;
      throw new Error(`GPU error: ${error}`);
    }
  }

  /** Frees the pool and the device. */
  destroy(): void {
    this.pool.trim();
    this.device.destroy();
  }
}

/**
 * Bytes a `read` stages at once (4 MiB): larger reads come back piece by piece, at ~10 ms a map
 * (GPT-2's 12.9 MB of logits: 4 maps), for a fraction of the memory.
 */
const READ_PIECE = 4 * 2 ** 20;

/** Where each of `tensors` lies in one readback's bytes (each padded to 4), and their total. */
function packed(tensors: readonly GpuTensor[]): { offsets: number[]; total: number } {
  const offsets: number[] = [];
  let total = 0;
  for (const t of tensors) {
    offsets.push(total);
    total += Math.ceil(t.byteLength / 4) * 4;
  }
  return { offsets, total };
}

/** `tensors` as CPU tensors over the readback's `bytes`, laid out as `packed` says. */
function unpacked(
  tensors: readonly GpuTensor[],
  bytes: ArrayBuffer,
  offsets: readonly number[],
): Tensor[] {
  return tensors.map((t, i) => {
    const data = t.dtype === "i32"
      ? new Int32Array(bytes, offsets[i]!, t.size)
      : new Float32Array(bytes, offsets[i]!, t.size);
    return new Tensor(data, t.shape);
  });
}

/** Every limit the adapter reports, to ask for in full (WebGPU's defaults are its minimums). */
function adapterLimits(adapter: GPUAdapter): Record<string, number> {
  const limits: Record<string, number> = {};
  for (let o = adapter.limits as object; o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const key of Object.getOwnPropertyNames(o)) {
      const value = (adapter.limits as unknown as Record<string, unknown>)[key];
      if (typeof value === "number") limits[key] = value;
    }
  }
  return limits;
}

/** Whether `subgroupAdd` really sums over a subgroup on this device; the subgroup size if so. */
async function subgroupSize(device: GPUDevice): Promise<number | undefined> {
  // Deno's WebGPU accepts the `subgroups` feature without listing it, and rejects `enable
  // subgroups;`, so the shader uses the builtins bare.
  const code = `
@group(0) @binding(0) var<storage, read_write> out: array<u32>;
@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) i: u32, @builtin(subgroup_size) size: u32) {
  let total = subgroupAdd(1u);
  if (i == 0u) { out[0] = total; out[1] = size; }
}`;
  device.pushErrorScope("validation");
  const module = device.createShaderModule({ code });
  const info = await module.getCompilationInfo();
  if (await device.popErrorScope() !== null || info.messages.some((m) => m.type === "error")) {
    return undefined;
  }
  const pipeline = device.createComputePipeline({ layout: "auto", compute: { module } });
  const out = device.createBuffer({
    size: 8,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
  });
  const staging = device.createBuffer({
    size: 8,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(
    0,
    device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [{ binding: 0, resource: { buffer: out } }],
    }),
  );
  pass.dispatchWorkgroups(1);
  pass.end();
  encoder.copyBufferToBuffer(out, 0, staging, 0, 8);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const [total, size] = new Uint32Array(staging.getMappedRange().slice(0));
  staging.destroy();
  out.destroy();
  return total === size && size! > 0 ? size : undefined;
}

/**
 * Runs `fn` (which enumerates adapters) with `XDG_RUNTIME_DIR` set to a private empty folder when
 * it is unset, then puts the environment back and removes the folder. Why: Mesa's Vulkan loader
 * probes for a Wayland display while it lists adapters, and libwayland-client prints
 * `error: XDG_RUNTIME_DIR is invalid or not set in the environment.` twice when the variable is
 * unset (containers, CI, ssh without a login session), which reads as a failure on a healthy
 * machine. In an empty folder it finds no display socket and says nothing.
 */
async function withRuntimeDir<T>(fn: () => Promise<T>): Promise<T> {
  if (Deno.env.get("XDG_RUNTIME_DIR")) return await fn();
  const dir = await Deno.makeTempDir({ prefix: "mechlab-xdg-" }); // mode 0700, as the spec asks
  Deno.env.set("XDG_RUNTIME_DIR", dir);
  try {
    return await fn();
  } finally {
    Deno.env.delete("XDG_RUNTIME_DIR");
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Finds an adapter (high-performance first, software last) and creates the device with the
 * adapter's full limits and the optional features that help: `timestamp-query` (for the kernel
 * benchmark), and `subgroups` where a test shader shows they work. Throws a one-line `NoGpuError` if there is no
 * adapter.
 *
 * @example
 * ```ts ignore
 * import { requestGpu } from "./mod.ts";
 * const gpu = await requestGpu();
 * console.log(gpu.describe());
 * ```
 */
export async function requestGpu(): Promise<Gpu> {
  if (typeof navigator === "undefined" || navigator.gpu === undefined) {
    throw new NoGpuError("no WebGPU in this runtime: the CPU path still works");
  }
  const adapter = await withRuntimeDir(async () =>
    await navigator.gpu.requestAdapter({ powerPreference: "high-performance" }) ??
      await navigator.gpu.requestAdapter()
  );
  if (adapter === null) {
    throw new NoGpuError(
      "no WebGPU adapter found (no GPU driver, nor Mesa's software Vulkan: " +
        "apt-get install mesa-vulkan-drivers); the CPU path still works",
    );
  }
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const features = WANTED_FEATURES.filter((f) => adapter.features.has(f));
  const requiredLimits = adapterLimits(adapter);
  let device: GPUDevice;
  let subgroups = true;
  try {
    device = await adapter.requestDevice({
      requiredFeatures: [...features, "subgroups" as GPUFeatureName],
      requiredLimits,
    });
  } catch {
    subgroups = false;
    device = await adapter.requestDevice({ requiredFeatures: features, requiredLimits });
  }
  const report: AdapterReport = {
    description: info.description || info.device || info.vendor || "unknown adapter",
    vendor: info.vendor,
    architecture: info.architecture,
    isFallback: info.isFallbackAdapter === true || SOFTWARE.test(info.description),
    features: [...features],
    subgroupSize: subgroups ? await subgroupSize(device) : undefined,
  };
  return new Gpu(device, report);
}

let shared: Promise<Gpu | NoGpuError> | undefined;

/**
 * The process' one `Gpu`, created on first call; or the `NoGpuError` saying why there is none.
 * Tests use this to skip with a reason where there is no adapter.
 *
 * @example
 * ```ts ignore
 * import { sharedGpu } from "./mod.ts";
 * const gpu = await sharedGpu();
 * if (gpu instanceof Error) console.log(`skipped: ${gpu.message}`);
 * ```
 */
export function sharedGpu(): Promise<Gpu | NoGpuError> {
  shared ??= requestGpu().catch((e) => {
    if (e instanceof NoGpuError) return e;
    throw e;
  });
  return shared;
}
