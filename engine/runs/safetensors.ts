/**
 * Checkpoints in the safetensors format, byte for byte as Hugging Face's `safetensors` library
 * writes and reads it, so a Python user can `safetensors.numpy.load_file` a mechlab checkpoint:
 *
 * - 8 bytes: N, the header's length, a little-endian u64;
 * - N bytes: a UTF-8 JSON object, `"name": {"dtype", "shape", "data_offsets": [begin, end]}` per
 *   tensor plus an optional `"__metadata__": {string: string}`, padded with spaces so that the
 *   data starts at a multiple of 8 (the library's own alignment rule);
 * - the data: each tensor row-major and little-endian, packed with no gaps, offsets relative to
 *   the start of the data.
 *
 * F32, F64 and I32 are read and written: the dtypes a `Tensor` holds. F16 and BF16 (half-precision
 * checkpoints from the hub) are read too, widened exactly to f32 tensors.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import type { TypedArray } from "../tensor/mod.ts";
import { Tensor } from "../tensor/mod.ts";
import { errorLine } from "./run_error.ts";

/** A dtype name as written in a safetensors header, of those mechlab reads (it writes the first 3). */
export type SafetensorsDType = "F32" | "F64" | "I32" | "F16" | "BF16";

/** Tensors to save: a `Map` keeps its order; a record's order is JavaScript's key order. */
export type NamedTensors = Map<string, Tensor> | Record<string, Tensor>;

/** What `decodeSafetensors` returns: the tensors in file order and the `__metadata__` strings. */
export interface DecodedSafetensors {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

/** Options of `encodeSafetensors`. */
export interface EncodeOptions {
  /** The dtype floats are stored in. Default F32: what the GPU trains in, so nothing is lost. */
  dtype?: "F32" | "F64";
}

const ITEM_BYTES: Record<SafetensorsDType, number> = { F32: 4, F64: 8, I32: 4, F16: 2, BF16: 2 };
// The other dtypes the Python library knows: named as unsupported rather than as corrupt.
const OTHER_DTYPES = new Set([
  "BOOL",
  "U8",
  "I8",
  "F8_E5M2",
  "F8_E4M3",
  "F8_E8M0",
  "F4",
  "F6_E2M3",
  "F6_E3M2",
  "I16",
  "U16",
  "U32",
  "I64",
  "U64",
  "C64",
]);
// The library refuses headers over 100 MB (MAX_HEADER_SIZE); so do we, before allocating.
const MAX_HEADER_BYTES = 100_000_000;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Encodes tensors and string metadata as a safetensors file. Floats are stored as
 * `options.dtype` (F32 by default; an f64 tensor is rounded to nearest), i32 tensors as I32.
 * `metadata`, when given, is written as `__metadata__` even if empty, as the Python library does.
 *
 * @example
 * ```ts
 * import { encodeSafetensors } from "./safetensors.ts";
 * import { tensor } from "../tensor/mod.ts";
 * const bytes = encodeSafetensors({ w: tensor([1, 2], [2], "f32") });
 * bytes.length; // 72: 8 (length) + 56 (header padded to 8) + 8 (two f32)
 * ```
 */
export function encodeSafetensors(
  tensors: NamedTensors,
  metadata?: Record<string, string>,
  options: EncodeOptions = {},
): Uint8Array {
  const { head, parts, size } = encodedParts(tensors, metadata, options);
  const out = new Uint8Array(size);
  out.set(head);
  let at = head.length;
  for (const part of parts) {
    const bytes = part();
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}

/**
 * A safetensors file as its head (length and header, padded) and one function per tensor that
 * makes its bytes, so a writer holds one tensor's bytes at a time; `size` is the file's length.
 */
function encodedParts(
  tensors: NamedTensors,
  metadata: Record<string, string> | undefined,
  options: EncodeOptions,
): { head: Uint8Array; parts: (() => Uint8Array)[]; size: number } {
  const floatType = options.dtype ?? "F32";
  if (floatType !== "F32" && floatType !== "F64") {
    throw new RangeError(`safetensors dtype ${JSON.stringify(floatType)}: use "F32" or "F64"`);
  }
  const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  // Entries, not assignments: a tensor named "__proto__" must stay a key, not set a prototype.
  const header: [string, unknown][] = [];
  if (metadata !== undefined) header.push(["__metadata__", checkedMetadata(metadata)]);
  const parts: (() => Uint8Array)[] = [];
  let offset = 0;
  for (const [name, t] of entries) {
    if (name === "__metadata__") {
      throw new RangeError(`safetensors: "__metadata__" is reserved and cannot name a tensor`);
    }
    if (!(t instanceof Tensor)) throw new RangeError(`safetensors: ${quote(name)} is not a Tensor`);
    const dtype: SafetensorsDType = t.dtype === "i32" ? "I32" : floatType;
    const length = t.size * ITEM_BYTES[dtype];
    header.push([name, { dtype, shape: [...t.shape], data_offsets: [offset, offset + length] }]);
    parts.push(() => littleEndianBytes(convert(t.data, dtype), dtype));
    offset += length;
  }
  const json = new TextEncoder().encode(JSON.stringify(Object.fromEntries(header)));
  const n = Math.ceil(json.length / 8) * 8;
  const head = new Uint8Array(8 + n);
  new DataView(head.buffer).setBigUint64(0, BigInt(n), true);
  head.set(json, 8);
  head.fill(0x20, 8 + json.length, 8 + n); // spaces: still valid JSON whitespace
  return { head, parts, size: head.length + offset };
}

/**
 * Decodes a safetensors file, checking everything the Python library checks: the header length,
 * UTF-8, JSON, each dtype, shape and offset, that the tensors tile the data exactly (no overlap,
 * no gap, nothing after the last) and that each shape's size matches its bytes. A bad file is a
 * one-line `RangeError` starting `corrupt safetensors:`.
 *
 * @example
 * ```ts
 * import { decodeSafetensors, encodeSafetensors } from "./safetensors.ts";
 * import { tensor } from "../tensor/mod.ts";
 * const bytes = encodeSafetensors({ b: tensor([1, -2], [2], "i32") }, { config: "{}" });
 * const { tensors, metadata } = decodeSafetensors(bytes);
 * tensors.get("b")?.toArray(); // Int32Array [1, -2]
 * metadata.config; // "{}"
 * ```
 */
export function decodeSafetensors(bytes: Uint8Array): DecodedSafetensors {
  const { header, headerEnd } = parseHeader(bytes);
  const data = bytes.subarray(headerEnd);
  const { metadata, infos } = checkedHeader(header, data.length);
  const tensors = new Map<string, Tensor>();
  for (const info of infos) {
    const array = fromLittleEndian(data.subarray(info.begin, info.end), info.dtype, false);
    tensors.set(info.name, new Tensor(array, info.shape));
  }
  return { tensors, metadata };
}

/**
 * The metadata and tensors of a parsed header, checked against `dataBytes` bytes of tensor data
 * (each dtype, shape and offset; the tensors tile the data exactly), sorted by offset.
 */
function checkedHeader(
  header: Record<string, unknown>,
  dataBytes: number,
): { metadata: Record<string, string>; infos: TensorInfo[] } {
  let metadata: Record<string, string> = {};
  const infos: TensorInfo[] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === "__metadata__") metadata = parseMetadata(value);
    else infos.push(parseInfo(name, value, dataBytes));
  }
  // The library sorts by offsets before checking the tiling, so the header's order is free.
  infos.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const info of infos) {
    if (info.begin < expected) corrupt(`tensor ${quote(info.name)} overlaps the one before it`);
    if (info.begin > expected) {
      corrupt(`gap of ${info.begin - expected} bytes before tensor ${quote(info.name)}`);
    }
    expected = info.end;
  }
  if (expected !== dataBytes) corrupt(`${dataBytes - expected} bytes after the last tensor's data`);
  return { metadata, infos };
}

/** The JSON header at the start of `bytes` (which must hold at least all of it), checked. */
function parseHeader(bytes: Uint8Array): { header: Record<string, unknown>; headerEnd: number } {
  if (bytes.length < 8) {
    corrupt(`${bytes.length} bytes, too short for the 8-byte header length`);
  }
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) corrupt(`header length ${n} is over the 100 MB limit`);
  const headerEnd = 8 + Number(n);
  if (headerEnd > bytes.length) {
    corrupt(`header length ${n} runs past the end of the ${bytes.length}-byte file`);
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, headerEnd));
  } catch {
    corrupt("header is not valid UTF-8");
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    corrupt(`header is not valid JSON (${errorLine(e)})`);
  }
  if (!isPlainObject(header)) corrupt("header is not a JSON object");
  return { header, headerEnd };
}

/**
 * Writes a safetensors file atomically: to a temporary file in the same folder, flushed to disk,
 * then renamed over `path`. A reader (or a crash) sees the old file or the new one, never half of
 * one; on failure the temporary file is removed and the old file is left as it was.
 *
 * @example
 * ```ts
 * import { readSafetensors, writeSafetensorsAtomic } from "./safetensors.ts";
 * import { tensor } from "../tensor/mod.ts";
 * const dir = await Deno.makeTempDir();
 * await writeSafetensorsAtomic(`${dir}/final.safetensors`, { w: tensor([0.5], [1], "f32") });
 * (await readSafetensors(`${dir}/final.safetensors`)).tensors.get("w")?.get(0); // 0.5
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeSafetensorsAtomic(
  path: string,
  tensors: NamedTensors,
  metadata?: Record<string, string>,
  options: EncodeOptions = {},
): Promise<void> {
  // Tensor by tensor: a GPT-2 import never holds a second copy of its weights as bytes.
  const { head, parts } = encodedParts(tensors, metadata, options);
  await writeAtomic(path, async (file) => {
    await writeAll(file, head);
    for (const part of parts) await writeAll(file, part());
  });
}

/**
 * Reads and decodes a safetensors file. A missing file, an unreadable one or a corrupt one is a
 * one-line error that names the path.
 *
 * @example
 * ```ts
 * import { readSafetensors } from "./safetensors.ts";
 * await readSafetensors("runs/nope/final.safetensors").catch((e) => e.message);
 * // "safetensors file runs/nope/final.safetensors not found"
 * ```
 */
export async function readSafetensors(path: string): Promise<DecodedSafetensors> {
  const tensors = new Map<string, Tensor>();
  const metadata = await readSafetensorsEach(path, (name, t) => void tensors.set(name, t));
  return { tensors, metadata };
}

/**
 * Reads a safetensors file tensor by tensor (in the file's order, each into a buffer of its own),
 * handing each to `visit` (awaited), and returns its metadata: a reader that copies each tensor somewhere
 * and lets it go holds one tensor at a time, never the file twice. `into`, when given, may name
 * where an F32 tensor's values go instead (an array of its size, e.g. its place in a flat
 * parameter array): read straight there, no buffer of its own. An array shorter than the tensor
 * takes it in pieces of its length, each handed to `visit` as a flat tensor with `at`, the index
 * of its first element (0 for a whole tensor): a reader that sends each piece on (to the GPU)
 * holds one piece at a time, not GPT-2's 147 MiB `W_E`. Errors as `readSafetensors`'s; the
 * header is checked whole before the first tensor is read.
 *
 * @example
 * ```ts
 * import { readSafetensorsEach, writeSafetensorsAtomic } from "./safetensors.ts";
 * import { tensor } from "../tensor/mod.ts";
 * const dir = await Deno.makeTempDir();
 * await writeSafetensorsAtomic(`${dir}/a.safetensors`, { w: tensor([1, 2], [2], "f32") });
 * const sizes: number[] = [];
 * await readSafetensorsEach(`${dir}/a.safetensors`, (_, t) => void sizes.push(t.size)); // {}
 * sizes; // [2]
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readSafetensorsEach(
  path: string,
  visit: (name: string, t: Tensor, at: number) => void | Promise<void>,
  into?: (name: string, shape: readonly number[]) => Float32Array | undefined,
): Promise<Record<string, string>> {
  const file = await openForReading(path);
  try {
    const { header, headerEnd } = await readHeader(file);
    const size = (await file.stat()).size;
    const { metadata, infos } = checkedHeader(header, Math.max(0, size - headerEnd));
    for (const info of infos) {
      const what = `tensor ${quote(info.name)}`;
      const place = info.dtype === "F32" && LITTLE_ENDIAN
        ? into?.(info.name, info.shape)
        : undefined;
      const length = (info.end - info.begin) / 4; // elements, where F32
      if (place !== undefined && place.length === length) {
        await readExactly(file, place.byteLength, what, place);
        await visit(info.name, new Tensor(place, info.shape), 0);
        continue;
      }
      if (place !== undefined && place.length > 0 && place.length < length) {
        for (let at = 0; at < length; at += place.length) {
          const piece = place.subarray(0, Math.min(place.length, length - at));
          await readExactly(file, piece.byteLength, what, piece);
          await visit(info.name, new Tensor(piece, [piece.length]), at);
        }
        continue;
      }
      const bytes = await readExactly(file, info.end - info.begin, what);
      await visit(info.name, new Tensor(fromLittleEndian(bytes, info.dtype, true), info.shape), 0);
    }
    return metadata;
  } catch (e) {
    throw new RangeError(`${path}: ${errorLine(e)}`, { cause: e });
  } finally {
    file.close();
  }
}

/** `path` opened to read, or a one-line error naming it. */
async function openForReading(path: string): Promise<Deno.FsFile> {
  try {
    return await Deno.open(path, { read: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new Error(`safetensors file ${path} not found`);
    throw new Error(`cannot read ${path}: ${errorLine(e)}`, { cause: e });
  }
}

/** The header of the safetensors file open in `file`, read from its start, and where it ends. */
async function readHeader(
  file: Deno.FsFile,
): Promise<{ header: Record<string, unknown>; headerEnd: number }> {
  const head = await readExactly(file, 8, "header part");
  const n = new DataView(head.buffer).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) corrupt(`header length ${n} is over the 100 MB limit`);
  const bytes = new Uint8Array(8 + Number(n));
  bytes.set(head);
  bytes.set(await readExactly(file, Number(n), "header part"), 8);
  return parseHeader(bytes);
}

/**
 * The `__metadata__` of the safetensors file at `path`, reading only its header (a checkpoint's
 * step without its weights). Errors as `readSafetensors`'s.
 *
 * @example
 * ```ts
 * import { readSafetensorsMetadata, writeSafetensorsAtomic } from "./safetensors.ts";
 * import { tensor } from "../tensor/mod.ts";
 * const dir = await Deno.makeTempDir();
 * await writeSafetensorsAtomic(`${dir}/a.safetensors`, { w: tensor([1], [1]) }, { step: "7" });
 * (await readSafetensorsMetadata(`${dir}/a.safetensors`)).step; // "7"
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readSafetensorsMetadata(path: string): Promise<Record<string, string>> {
  const file = await openForReading(path);
  try {
    const { header } = await readHeader(file);
    return "__metadata__" in header ? parseMetadata(header.__metadata__) : {};
  } catch (e) {
    throw new RangeError(`${path}: ${errorLine(e)}`, { cause: e });
  } finally {
    file.close();
  }
}

/**
 * Writes `bytes` to `path` atomically (temporary file in the same folder, `fdatasync`, rename),
 * the one way mechlab replaces a file: checkpoints, `config.json`, a truncated `metrics.jsonl`.
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from "./safetensors.ts";
 * const dir = await Deno.makeTempDir();
 * await writeFileAtomic(`${dir}/a.txt`, new TextEncoder().encode("hello\n"));
 * await Deno.readTextFile(`${dir}/a.txt`); // "hello\n"
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  await writeAtomic(path, (file) => writeAll(file, bytes));
}

/** `writeFileAtomic` with the bytes written by `write` into the temporary file. */
async function writeAtomic(
  path: string,
  write: (file: Deno.FsFile) => Promise<void>,
): Promise<void> {
  // Same folder, so the rename never crosses file systems; dot-named so listings skip it.
  const suffix = crypto.getRandomValues(new Uint32Array(1))[0]!.toString(16);
  const temp = join(dirname(path), `.${basename(path)}.tmp-${Deno.pid}-${suffix}`);
  try {
    const file = await Deno.open(temp, { write: true, createNew: true });
    try {
      await write(file);
      await file.syncData(); // the data is on disk before the name points at it
    } finally {
      file.close();
    }
    await Deno.rename(temp, path);
  } catch (e) {
    await Deno.remove(temp).catch(() => {});
    throw new Error(`cannot write ${path}: ${errorLine(e)}`, { cause: e });
  }
}

/** Writes every byte: `write` may write fewer than asked. */
async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await file.write(bytes.subarray(at));
}

interface TensorInfo {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  begin: number;
  end: number;
}

function parseInfo(name: string, value: unknown, dataBytes: number): TensorInfo {
  const what = `tensor ${quote(name)}`;
  if (!isPlainObject(value)) corrupt(`${what}: entry is not an object`);
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== "string") corrupt(`${what}: dtype is missing or not a string`);
  if (OTHER_DTYPES.has(dtype)) {
    throw new RangeError(
      `safetensors ${what} has dtype ${dtype}; mechlab reads F32, F64, I32, F16 and BF16`,
    );
  }
  if (!(dtype in ITEM_BYTES)) corrupt(`${what}: unknown dtype ${quote(dtype)}`);
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    corrupt(`${what}: shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    corrupt(`${what}: data_offsets ${JSON.stringify(offsets)} is not [begin, end]`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) corrupt(`${what}: data_offsets [${begin}, ${end}] end before they begin`);
  if (end > dataBytes) {
    corrupt(`${what}: data_offsets [${begin}, ${end}] run past the ${dataBytes}-byte data`);
  }
  const t = dtype as SafetensorsDType;
  const size = shape.reduce((a: number, b: number) => a * b, 1);
  if (size * ITEM_BYTES[t] !== end - begin) {
    corrupt(
      `${what}: shape [${shape}] of ${t} needs ${size * ITEM_BYTES[t]} bytes, ` +
        `data_offsets span ${end - begin}`,
    );
  }
  return { name, dtype: t, shape, begin, end };
}

function parseMetadata(value: unknown): Record<string, string> {
  if (!isPlainObject(value)) corrupt("__metadata__ is not an object");
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "string") corrupt(`__metadata__ ${quote(k)} is not a string`);
  }
  return Object.fromEntries(Object.entries(value)) as Record<string, string>;
}

function checkedMetadata(metadata: Record<string, string>): Record<string, string> {
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== "string") {
      // The format allows only strings here: structured values go in as JSON text.
      throw new RangeError(
        `safetensors metadata ${quote(k)}: value must be a string, got ${typeof v}`,
      );
    }
  }
  return { ...metadata };
}

function convert(data: TypedArray, dtype: SafetensorsDType): TypedArray {
  if (dtype === "F32") return data instanceof Float32Array ? data : Float32Array.from(data);
  if (dtype === "F64") return data instanceof Float64Array ? data : Float64Array.from(data);
  return data;
}

function littleEndianBytes(data: TypedArray, dtype: SafetensorsDType): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.length * ITEM_BYTES[dtype]);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (dtype === "F32") view.setFloat32(i * 4, v, true);
    else if (dtype === "F64") view.setFloat64(i * 8, v, true);
    else view.setInt32(i * 4, v, true);
  }
  return out;
}

/** `bytes` as `dtype`'s array; `owned`: `bytes` is a whole buffer of its own, used as it is. */
function fromLittleEndian(bytes: Uint8Array, dtype: SafetensorsDType, owned: boolean): TypedArray {
  // Else a copy: aligned for the typed array whatever the offset, and not tied to the file's buffer.
  const copy = owned && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? bytes.buffer as ArrayBuffer
    : bytes.slice().buffer;
  const n = bytes.length / ITEM_BYTES[dtype];
  if (dtype === "F16" || dtype === "BF16") {
    const view = new DataView(copy);
    const widen = dtype === "F16" ? f16ToF32 : bf16ToF32;
    return Float32Array.from({ length: n }, (_, i) => widen(view.getUint16(i * 2, true)));
  }
  if (LITTLE_ENDIAN) {
    if (dtype === "F32") return new Float32Array(copy);
    if (dtype === "F64") return new Float64Array(copy);
    return new Int32Array(copy);
  }
  const view = new DataView(copy);
  if (dtype === "F32") {
    return Float32Array.from({ length: n }, (_, i) => view.getFloat32(i * 4, true));
  }
  if (dtype === "F64") {
    return Float64Array.from({ length: n }, (_, i) => view.getFloat64(i * 8, true));
  }
  return Int32Array.from({ length: n }, (_, i) => view.getInt32(i * 4, true));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isCount(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

function corrupt(detail: string): never {
  throw new RangeError(`corrupt safetensors: ${detail}`);
}

/** A name as JSON writes it: quoted, with control characters escaped, so it stays on one line. */
function quote(s: string): string {
  return JSON.stringify(s);
}

/** Exactly `n` bytes from `file`, or a "file ends early" error. */
async function readExactly(
  file: Deno.FsFile,
  n: number,
  what: string,
  into?: Float32Array,
): Promise<Uint8Array> {
  const out = into === undefined
    ? new Uint8Array(n)
    : new Uint8Array(into.buffer, into.byteOffset, into.byteLength);
  let at = 0;
  while (at < n) {
    const got = await file.read(out.subarray(at));
    if (got === null) corrupt(`the file ends ${n - at} bytes into its ${n}-byte ${what}`);
    at += got;
  }
  return out;
}

const BF16_BITS = new Uint32Array(1);
const BF16_FLOAT = new Float32Array(BF16_BITS.buffer);

/** A bfloat16's value: its 16 bits are the top half of an f32's. */
function bf16ToF32(bits: number): number {
  BF16_BITS[0] = bits << 16;
  return BF16_FLOAT[0]!;
}

/** An IEEE half's value from its bits: sign, 5 exponent bits (bias 15), 10 mantissa bits. */
function f16ToF32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24; // zero and subnormals
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}
