// safetensors against the format's own test vectors (huggingface/safetensors, tensor.rs), a
// hand-worked file, every corruption, and an independent numpy reader (fixtures/read_safetensors.py).
import * as assert from "node:assert/strict";
import {
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  readSafetensorsEach,
  readSafetensorsMetadata,
  writeSafetensorsAtomic,
} from "../../engine/runs/mod.ts";
import { randn, type Tensor, tensor } from "../../engine/tensor/mod.ts";
import { listDir } from "../helpers.ts";
import { NUMPY, python } from "../python.ts";

const text = new TextEncoder();

function u64(n: number): number[] {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return [...b];
}

/** A file from a header given as text (or an object) and `dataBytes` bytes of data. */
function file(header: string | object, dataBytes: number, headerLength?: number): Uint8Array {
  const h = text.encode(typeof header === "string" ? header : JSON.stringify(header));
  return new Uint8Array([...u64(headerLength ?? h.length), ...h, ...new Uint8Array(dataBytes)]);
}

function assertCorrupt(bytes: Uint8Array, pattern: RegExp, prefix = /^corrupt safetensors: /) {
  assert.throws(
    () => decodeSafetensors(bytes),
    (e: unknown) => {
      assert.ok(e instanceof RangeError, String(e));
      assert.match(e.message, prefix);
      assert.match(e.message, pattern);
      assert.ok(!e.message.includes("\n"), `one line: ${e.message}`);
      return true;
    },
  );
}

// huggingface/safetensors, safetensors/src/tensor.rs, test_serialization_forced_alignement: "attn0",
// F32 [1,1,2,3] holding 0..5; the 65-byte header gets 7 spaces so the data starts at 80.
// deno-fmt-ignore
const ATTN0 = [
  72, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 48, 34, 58, 123, 34, 100, 116,
  121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58,
  91, 49, 44, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102,
  115, 101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 32, 32, 32, 32, 32,
  32, 32, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0,
  160, 64,
];
// The same file's test_empty: no tensors, without and with metadata {framework: "pt"}.
const EMPTY = [8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32];
// deno-fmt-ignore
const EMPTY_PT = [
  40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95,
  95, 34, 58, 123, 34, 102, 114, 97, 109, 101, 119, 111, 114, 107, 34, 58, 34, 112,
  116, 34, 125, 125, 32, 32, 32, 32, 32,
];

Deno.test("safetensors: the library's own test vectors, byte for byte", () => {
  const attn0 = encodeSafetensors({ attn0: tensor([0, 1, 2, 3, 4, 5], [1, 1, 2, 3], "f32") });
  assert.deepEqual([...attn0], ATTN0);
  assert.deepEqual([...encodeSafetensors({})], EMPTY);
  assert.deepEqual([...encodeSafetensors({}, { framework: "pt" })], EMPTY_PT);
  const back = decodeSafetensors(new Uint8Array(ATTN0)).tensors.get("attn0")!;
  assert.deepEqual(back.shape, [1, 1, 2, 3]);
  assert.deepEqual([...back.data], [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(decodeSafetensors(new Uint8Array(EMPTY_PT)).metadata, { framework: "pt" });
});

Deno.test("safetensors: a hand-worked file with metadata, I32 and an unaligned F64 scalar", () => {
  // Header counted by hand: 147 bytes, padded with 5 spaces to 152 so the data starts at 160.
  const header = '{"__metadata__":{"config":"{\\"a\\":1}"},' +
    '"b":{"dtype":"I32","shape":[3],"data_offsets":[0,12]},' +
    '"s":{"dtype":"F64","shape":[],"data_offsets":[12,20]}}';
  assert.equal(header.length, 147);
  const expected = [
    ...[152, 0, 0, 0, 0, 0, 0, 0],
    ...text.encode(header),
    ...[32, 32, 32, 32, 32],
    ...[1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 3, 0, 0, 0], // 1, -2, 3 as little-endian i32
    ...[0, 0, 0, 0, 0, 0, 0xe0, 0x3f], // 0.5 = 0x3FE0000000000000
  ];
  const bytes = encodeSafetensors(
    new Map([["b", tensor([1, -2, 3], [3], "i32")], ["s", tensor(0.5, [], "f64")]]),
    { config: '{"a":1}' },
    { dtype: "F64" },
  );
  assert.deepEqual([...bytes], expected);
  const { tensors, metadata } = decodeSafetensors(new Uint8Array(expected));
  assert.deepEqual(metadata, { config: '{"a":1}' });
  assert.deepEqual([...tensors.keys()], ["b", "s"]);
  assert.equal(tensors.get("b")!.dtype, "i32");
  assert.deepEqual([...tensors.get("b")!.data], [1, -2, 3]);
  assert.equal(tensors.get("s")!.dtype, "f64");
  assert.deepEqual(tensors.get("s")!.shape, []);
  assert.equal(tensors.get("s")!.get(), 0.5);
});

Deno.test("safetensors: round trips F32, F64, I32, scalars, empty tensors, unicode names", () => {
  const f32 = randn([3, 4, 5], { seed: 0 }).astype("f32");
  const f64 = tensor([0.1, -1e300, 5e-324, Math.PI], [2, 2], "f64");
  const i32 = tensor([2147483647, -2147483648, 0, -1, 7], [5], "i32");
  const tensors = new Map<string, Tensor>([
    ["blocks.0.attn.W_Q", f32],
    ["exact", f64],
    ["ids", i32],
    ["scalar", tensor(2.5, [], "f32")],
    ["empty", tensor([], [0, 3], "f32")],
    ["résidu·ψ 😀", tensor([1, 2], [2], "f32")],
  ]);
  const config = JSON.stringify({ p: 113, note: "line one\nline two ünïcode" });
  for (const metadata of [undefined, {}, { config }]) {
    const bytes = encodeSafetensors(tensors, metadata, { dtype: "F64" });
    const back = decodeSafetensors(bytes);
    assert.deepEqual(back.metadata, metadata ?? {});
    assert.deepEqual([...back.tensors.keys()], [...tensors.keys()]);
    for (const [name, t] of tensors) {
      const b = back.tensors.get(name)!;
      assert.deepEqual(b.shape, t.shape, name);
      assert.equal(b.dtype, t.dtype === "i32" ? "i32" : "f64", name);
      assert.deepEqual([...b.data], [...t.data], name); // F64 holds f32 and f64 exactly
    }
  }
  // Default F32: an f64 tensor is rounded to nearest f32, an f32 one kept bit for bit.
  const back = decodeSafetensors(encodeSafetensors(tensors)).tensors;
  assert.equal(back.get("exact")!.dtype, "f32");
  assert.deepEqual([...back.get("exact")!.data], [...f64.data].map(Math.fround));
  assert.deepEqual([...back.get("blocks.0.attn.W_Q")!.data], [...f32.data]);
  assert.equal(back.get("ids")!.dtype, "i32");
  // A record is accepted as well as a Map.
  const rec = decodeSafetensors(encodeSafetensors({ a: i32 })).tensors.get("a")!;
  assert.deepEqual([...rec.data], [...i32.data]);
});

Deno.test("safetensors: the data starts at a multiple of 8, padded with spaces only", () => {
  for (let len = 1; len <= 17; len++) {
    const bytes = encodeSafetensors({ ["x".repeat(len)]: tensor([1], [1], "f32") });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    assert.equal((8 + n) % 8, 0, `name length ${len}`);
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    const pad = header.length - header.trimEnd().length;
    assert.ok(pad < 8 && header.trimEnd().endsWith("}"), `name length ${len}: ${pad} spaces`);
    assert.equal(bytes.length, 8 + n + 4);
  }
});

Deno.test("safetensors: refuses what it cannot write", () => {
  const t = tensor([1], [1], "f32");
  assert.throws(() => encodeSafetensors({ __metadata__: t }), /"__metadata__" is reserved/);
  assert.throws(
    () => encodeSafetensors({ t }, { config: 3 as unknown as string }),
    /^RangeError: safetensors metadata "config": value must be a string, got number$/,
  );
});

Deno.test("safetensors: F16 and BF16 read as f32, exactly (hand-worked bits)", () => {
  // F16: 1, -2, 1/3 rounded (0x3555), the smallest subnormal 2^-24, the largest 65504, -inf.
  const half = [0x3c00, 0xc000, 0x3555, 0x0001, 0x7bff, 0xfc00];
  // BF16: the top 16 bits of an f32: 1, -2, 0x3eab = 0.333984375, +inf.
  const brain = [0x3f80, 0xc000, 0x3eab, 0x7f80];
  const bits = (values: number[]) => values.flatMap((v) => [v & 0xff, v >> 8]); // little-endian u16
  const header = {
    h: { dtype: "F16", shape: [2, 3], data_offsets: [0, 12] },
    b: { dtype: "BF16", shape: [4], data_offsets: [12, 20] },
  };
  const h = text.encode(JSON.stringify(header));
  const bytes = new Uint8Array([...u64(h.length), ...h, ...bits(half), ...bits(brain)]);
  const { tensors } = decodeSafetensors(bytes);
  assert.equal(tensors.get("h")!.dtype, "f32");
  assert.deepEqual(tensors.get("h")!.shape, [2, 3]);
  assert.deepEqual(
    Array.from(tensors.get("h")!.data),
    [1, -2, 0.333251953125, 2 ** -24, 65504, -Infinity],
  );
  assert.deepEqual(Array.from(tensors.get("b")!.data), [1, -2, 0.333984375, Infinity]);
});

Deno.test("safetensors: every corruption is a one-line error", () => {
  const ok = { w: { dtype: "F32", shape: [2], data_offsets: [0, 8] } };
  assertCorrupt(new Uint8Array(0), /0 bytes, too short/);
  assertCorrupt(new Uint8Array(7), /7 bytes, too short/);
  assertCorrupt(file(ok, 8, 1000), /header length 1000 runs past the end of the \d+-byte file/);
  assertCorrupt(new Uint8Array(u64(2 ** 53)), /header length \d+ is over the 100 MB limit/);
  assertCorrupt(new Uint8Array([...u64(2), 0xc3, 0x28]), /not valid UTF-8/);
  assertCorrupt(file('{"w": {"dtype": "F32",', 0), /header is not valid JSON \(/);
  assertCorrupt(file("[1, 2]", 0), /header is not a JSON object/);
  assertCorrupt(file({ w: 3 }, 0), /tensor "w": entry is not an object/);
  assertCorrupt(file({ w: { ...ok.w, dtype: "F33" } }, 8), /tensor "w": unknown dtype "F33"/);
  assertCorrupt(file({ w: { ...ok.w, dtype: 32 } }, 8), /dtype is missing or not a string/);
  assertCorrupt(
    file({ w: { ...ok.w, dtype: "I16" } }, 8),
    /^safetensors tensor "w" has dtype I16; mechlab reads F32, F64, I32, F16 and BF16$/,
    /^safetensors /,
  );
  assertCorrupt(file({ w: { ...ok.w, shape: [-2] } }, 8), /shape \[-2\] is not a list/);
  assertCorrupt(file({ w: { ...ok.w, shape: [1.5] } }, 8), /shape \[1.5\] is not a list/);
  assertCorrupt(file({ w: { ...ok.w, shape: "2" } }, 8), /shape "2" is not a list/);
  assertCorrupt(file({ w: { ...ok.w, data_offsets: [0] } }, 8), /data_offsets \[0\] is not/);
  assertCorrupt(file({ w: { ...ok.w, data_offsets: [8, 0] } }, 8), /end before they begin/);
  assertCorrupt(file(ok, 4), /data_offsets \[0, 8\] run past the 4-byte data/);
  assertCorrupt(
    file({ w: { ...ok.w, shape: [3] } }, 8),
    /shape \[3\] of F32 needs 12 bytes, data_offsets span 8/,
  );
  const two = (b: [number, number]) => ({
    ...ok,
    v: { dtype: "I32", shape: [1], data_offsets: b },
  });
  assertCorrupt(file(two([4, 8]), 12), /tensor "v" overlaps the one before it/);
  assertCorrupt(file(two([12, 16]), 16), /gap of 4 bytes before tensor "v"/);
  assertCorrupt(
    file({ w: { ...ok.w, data_offsets: [4, 12] } }, 12),
    /gap of 4 bytes before tensor "w"/,
  );
  assertCorrupt(file(ok, 9), /1 bytes after the last tensor's data/);
  assertCorrupt(
    file({ __metadata__: { config: { p: 1 } } }, 0),
    /__metadata__ "config" is not a string/,
  );
  assertCorrupt(file({ __metadata__: "x" }, 0), /__metadata__ is not an object/);
  // A name with a newline still gives one line.
  assertCorrupt(file({ "a\nb": 3 }, 0), /tensor "a\\nb"/);
  // The same file, well formed, decodes: the cases above fail for the reason named.
  assert.deepEqual([...decodeSafetensors(file(ok, 8)).tensors.get("w")!.data], [0, 0]);
  assert.equal(decodeSafetensors(file(two([8, 12]), 12)).tensors.size, 2);
});

NUMPY.test({
  name: "safetensors: an independent numpy reader sees the same names, shapes, metadata, sums",
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const tensors = new Map<string, Tensor>([
        ["embed.W_E", randn([7, 5], { seed: 1 }).astype("f32")],
        ["unembed.b_U", randn([7], { seed: 2 })], // f64, stored as F32 by default
        ["tokens", tensor([3, -1, 4, 1, -5, 9], [2, 3], "i32")],
        ["scale", tensor(0.25, [], "f32")],
        ["ψ_名前", tensor([1.5, 2.5], [1, 2], "f32")],
      ]);
      const metadata = { config: JSON.stringify({ d_model: 5, act_fn: "relu" }), format: "pt" };
      const path = `${dir}/a.safetensors`;
      await writeSafetensorsAtomic(path, tensors, metadata);
      const script = new URL("../../fixtures/read_safetensors.py", import.meta.url).pathname;
      // deno-lint-ignore no-explicit-any -- the reader's JSON, read field by field
      const seen = await python<any>([script, path]);
      assert.deepEqual(seen.metadata, metadata);
      assert.equal(seen.data_start % 8, 0);
      assert.deepEqual(Object.keys(seen.tensors).sort(), [...tensors.keys()].sort());
      let end = 0;
      for (const [name, t] of tensors) {
        const s = seen.tensors[name];
        const f32 = t.dtype !== "i32";
        assert.equal(s.dtype, f32 ? "F32" : "I32", name);
        assert.deepEqual(s.shape, t.shape, name);
        assert.deepEqual(s.offsets, [end, end + 4 * t.size], name); // packed in order, no gaps
        end += 4 * t.size;
        const stored = [...t.data].map((v) => (f32 ? Math.fround(v) : v));
        const sum = stored.reduce((a, b) => a + b, 0);
        assert.ok(
          Math.abs(s.sum - sum) <= 1e-12 * (1 + Math.abs(sum)),
          `${name}: ${s.sum} vs ${sum}`,
        );
        assert.equal(s.first, stored[0], name);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("safetensors: atomic write replaces the file and leaves no temporary file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/final.safetensors`;
    await writeSafetensorsAtomic(path, { w: tensor([1, 2], [2], "f32") });
    await writeSafetensorsAtomic(path, { w: tensor([3, 4, 5], [3], "f32") }, { step: "2" });
    const { tensors, metadata } = await readSafetensors(path);
    assert.deepEqual([...tensors.get("w")!.data], [3, 4, 5]);
    assert.deepEqual(metadata, { step: "2" });
    assert.deepEqual(await listDir(dir), ["final.safetensors"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("safetensors: a failed write leaves the old file intact and no temporary file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/final.safetensors`;
    await writeSafetensorsAtomic(path, { w: tensor([1, 2], [2], "f32") });
    const before = await Deno.readFile(path);
    // Fails while encoding, before anything is written.
    await assert.rejects(
      writeSafetensorsAtomic(path, { w: tensor([9], [1], "f32") }, { c: 1 as unknown as string }),
      /value must be a string/,
    );
    assert.deepEqual(await Deno.readFile(path), before);
    // Fails at the rename, after the temporary file was written: the target is a non-empty folder.
    await Deno.mkdir(`${dir}/busy.safetensors/inside`, { recursive: true });
    await assert.rejects(
      writeSafetensorsAtomic(`${dir}/busy.safetensors`, { w: tensor([9], [1], "f32") }),
      (e: Error) =>
        /^cannot write .*busy\.safetensors: /.test(e.message) && !e.message.includes("\n"),
    );
    assert.deepEqual(await listDir(dir), ["busy.safetensors", "final.safetensors"]);
    assert.deepEqual(await Deno.readFile(path), before);
    // A missing folder: no temporary file can even be made.
    await assert.rejects(
      writeSafetensorsAtomic(`${dir}/no/such/x.safetensors`, { w: tensor([9], [1], "f32") }),
      /^Error: cannot write .*no\/such\/x\.safetensors: /,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("safetensors: reading a missing or corrupt file names the path on one line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(readSafetensors(`${dir}/gone.safetensors`), (e: Error) => {
      assert.equal(e.message, `safetensors file ${dir}/gone.safetensors not found`);
      return true;
    });
    await Deno.writeFile(`${dir}/bad.safetensors`, file('{"w":', 0));
    await assert.rejects(readSafetensors(`${dir}/bad.safetensors`), (e: Error) => {
      assert.match(e.message, /^.*bad\.safetensors: corrupt safetensors: header is not valid JSON/);
      assert.ok(!e.message.includes("\n"));
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("safetensors: the metadata alone is read from the header, even when the data is cut off", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/a.safetensors`;
    await writeSafetensorsAtomic(path, { w: randn([64, 64], { seed: 1 }) }, { step: "1500" });
    assert.deepEqual(await readSafetensorsMetadata(path), (await readSafetensors(path)).metadata);
    // Cut into the tensor data: the whole file is corrupt, its header still reads.
    const bytes = await Deno.readFile(path);
    await Deno.writeFile(path, bytes.subarray(0, bytes.length - 100));
    await assert.rejects(readSafetensors(path), /run past the 16284-byte data/);
    assert.equal((await readSafetensorsMetadata(path)).step, "1500");
    // Cut into the header: one line naming the file.
    await Deno.writeFile(path, bytes.subarray(0, 20));
    await assert.rejects(
      readSafetensorsMetadata(path),
      new RegExp(`^RangeError: ${path}: .*header`),
    );
    await assert.rejects(readSafetensorsMetadata(`${dir}/none.safetensors`), /not found/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("safetensors: an F32 tensor longer than its `into` array is visited in pieces of it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/a.safetensors`;
    const a = randn([10, 7], { seed: 2, dtype: "f32" });
    const b = tensor([1, 2, 3], [3], "f32");
    const c = tensor([4, 5], [2], "i32");
    await writeSafetensorsAtomic(path, { a, b, c });
    const scratch = new Float32Array(16);
    const into = (name: string) =>
      name === "a" ? scratch : name === "b" ? new Float32Array(3) : undefined;
    const visits: { name: string; at: number; shape: number[]; values: number[] }[] = [];
    await readSafetensorsEach(path, (name, t, at) => {
      if (name === "a") {
        assert.equal(t.data.buffer, scratch.buffer, "a's pieces are read into `into`'s array");
      }
      visits.push({ name, at, shape: [...t.shape], values: Array.from(t.data) });
    }, into);
    const pieces = visits.filter((v) => v.name === "a");
    // 70 elements in pieces of 16: 16, 16, 16, 16, 6 from elements 0, 16, 32, 48, 64.
    assert.deepEqual(pieces.map((v) => [v.at, ...v.shape]), [
      [0, 16],
      [16, 16],
      [32, 16],
      [48, 16],
      [64, 6],
    ]);
    assert.deepEqual(pieces.flatMap((v) => v.values), Array.from(a.data));
    // A whole tensor (b: `into` its size; c: I32, its own buffer) is one visit at 0 with its shape.
    assert.deepEqual(visits.filter((v) => v.name !== "a"), [
      { name: "b", at: 0, shape: [3], values: [1, 2, 3] },
      { name: "c", at: 0, shape: [2], values: [4, 5] },
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
