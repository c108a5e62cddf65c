/**
 * `mechlab tour`: the maths mechlab is built on, run and printed, in the order a learner meets it
 * in the field's prerequisites (broadcasting, einops, einsum, sampling, SVD, the Fourier basis).
 * It ends where the grokking analysis starts: finding the key frequencies of an embedding.
 *
 * @module
 */

import {
  add,
  einsum,
  fourierBasis,
  fourierBasisNames,
  matmul,
  rand,
  randn,
  rearrange,
  reduce,
  repeat,
  sampleCategorical,
  sqrt,
  svd,
  type Tensor,
  tensor,
  zeros,
} from "../engine/tensor/mod.ts";
import { parseFlags } from "./args.ts";
import { UsageError } from "./errors.ts";

const HELP = `mechlab tour [--seed N]

Runs the tensor library on the field's prerequisite exercises and prints what happens.

flags:
  --seed N   seed of every random draw (default 0)`;

/**
 * Runs the tour with command-line `args`.
 *
 * @example
 * ```ts
 * import { tour } from "./tour.ts";
 * tour(["--seed", "1"]);
 * ```
 */
export function tour(args: string[]): void {
  const { values } = parseFlags(args, {
    seed: { type: "string", default: "0" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) return console.log(HELP);
  const seed = Number(values.seed);
  if (values.seed.trim() === "" || !Number.isSafeInteger(seed)) {
    throw new UsageError(`--seed must be an integer below 2^53, got '${values.seed}'`);
  }

  section("broadcasting: size-1 and missing dims stretch to match");
  const a = zeros([1, 2, 4]);
  console.log(`  [1,2,4] + [3,2,4] -> [${add(a, zeros([3, 2, 4])).shape}]`);
  try {
    add(zeros([1, 3, 4]), zeros([3, 2, 4]));
  } catch (e) {
    console.log(`  [1,3,4] + [3,2,4] -> error: ${(e as Error).message}`);
  }

  section("einops: rearrange, repeat and reduce by pattern");
  const images = rand([2, 4, 6, 3], { seed }); // [batch, height, width, channel]
  console.log(`  images                                    [${images.shape}]`);
  show("b h w c -> (b h) w c", rearrange(images, "b h w c -> (b h) w c"));
  show("b h w c -> b c (h w)", rearrange(images, "b h w c -> b c (h w)"));
  show("upsample b h w c -> b (h 2) (w 2) c", repeat(images, "b h w c -> b (h 2) (w 2) c"));
  show("max-pool b (h 2) (w 2) c -> b h w c", reduce(images, "b (h 2) (w 2) c -> b h w c", "max"));

  section("einsum: contractions named by their indices");
  const q = randn([2, 5, 8], { seed: seed + 1 }); // [batch, query pos, d_head]
  const k = randn([2, 5, 8], { seed: seed + 2 }); // [batch, key pos, d_head]
  show(
    "scores: batch i d, batch j d -> batch i j",
    einsum("batch i d, batch j d -> batch i j", q, k),
  );
  const m = tensor([1, 2, 3, 4], [2, 2]);
  console.log(`  trace of [[1,2],[3,4]]: "ii->" = ${einsum("ii->", m).get()}`);

  section("sampling: cumulative probabilities and one search per uniform draw");
  const probs = [0.1, 0.6, 0.3];
  const n = 10_000;
  const draws = sampleCategorical(probs, n, { seed });
  const freq = probs.map((_, i) => draws.filter((d) => d === i).length / n);
  console.log(`  probs ${fmt(probs)}; frequencies over ${n} draws ${fmt(freq)}`);

  section("SVD: the rank of a matrix is the number of non-zero singular values");
  const low = matmul(randn([6, 2], { seed: seed + 3 }), randn([2, 5], { seed: seed + 4 })); // rank 2
  console.log(`  singular values of a [6,2]·[2,5] product: ${fmt([...svd(low).S.data])}`);

  section("Fourier basis: the key frequencies of an embedding, as in the grokking paper");
  const p = 113;
  const keys = [14, 35, 41];
  const W_E = embeddingWithFrequencies(p, keys, seed); // [p, d_model]
  const F = fourierBasis(p); // [p, p]: const, cos 1, sin 1, ...
  const coeffs = matmul(F, W_E); // [p, d_model]: W_E in the Fourier basis
  const norms = sqrt(einsum("f d, f d -> f", coeffs, coeffs)); // [p]
  const names = fourierBasisNames(p);
  const top = [...norms.data.keys()].sort((x, y) => norms.data[y]! - norms.data[x]!).slice(0, 6);
  console.log(`  W_E [${W_E.shape}] built from frequencies ${keys.join(", ")} plus noise`);
  console.log(
    `  largest Fourier components: ${
      top.map((i) => `${names[i]} (${norms.data[i]!.toFixed(2)})`).join(", ")
    }`,
  );
  console.log("\nnext: `mechlab train` will train the model whose embedding this is.");
}

/** An embedding over Z_p whose columns are mixtures of cos and sin of the given frequencies. */
function embeddingWithFrequencies(p: number, freqs: number[], seed: number): Tensor {
  const dModel = 16;
  const x = Array.from({ length: p }, (_, i) => i);
  const waves = freqs.flatMap((f) => [
    x.map((v) => Math.cos((2 * Math.PI * f * v) / p)),
    x.map((v) => Math.sin((2 * Math.PI * f * v) / p)),
  ]);
  const basis = tensor(waves.flat(), [waves.length, p]); // [2 * freqs, p]
  const mix = randn([waves.length, dModel], { seed: seed + 5 }); // [2 * freqs, d_model]
  const noise = randn([p, dModel], { seed: seed + 6, std: 0.05 }); // [p, d_model]
  return add(einsum("w x, w d -> x d", basis, mix), noise);
}

function section(title: string): void {
  console.log(`\n# ${title}`);
}

function show(pattern: string, t: Tensor): void {
  console.log(`  ${pattern.padEnd(42)}[${t.shape}]`);
}

function fmt(xs: number[]): string {
  return `[${xs.map((v) => v.toFixed(3)).join(", ")}]`;
}
