/**
 * Generation from a trained run: a model fed one token at a time (`TokenModel`), with a key-value
 * cache on the CPU and the GPU or without one, and the draw of each new token (greedy, temperature,
 * top-k, top-p, seeded). `mechlab sample` and the server's sample endpoint both start here; the
 * prompt's text goes through `engine/data/codec.ts`.
 *
 * @example
 * ```ts ignore
 * const { model, vocab } = await openSampleModel("runs/smoke");
 * for await (const t of generate(model, encode(vocab, "3 5 ="), { maxNewTokens: 1, temperature: 0, seed: 0 })) {
 *   console.log(decode(vocab, [t.token]), t.prob);
 * }
 * ```
 *
 * @module
 */

export * from "./source.ts";
export * from "./generate.ts";
export * from "./cpu_cached.ts";
export * from "./cpu_uncached.ts";
export * from "./gpu_cached.ts";
export * from "./gpu_uncached.ts";
export * from "./load.ts";
