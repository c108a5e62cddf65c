/**
 * Loads what the views show for the latest key only. Dragging the checkpoint slider asks for many
 * steps a second, and an inspect report takes the server a moment to compute: one request at a
 * time, the answers to keys no longer wanted are not shown, and recent answers are kept, so
 * scrubbing back is instant. Pure (no DOM), so tests drive it with their own promises.
 *
 * @module
 */

/** What a load came to. */
export type Loaded<V> = { value: V } | { error: unknown };

/** How a loader reports, and how much it keeps. */
export interface LatestOptions<V> {
  /** Called with the answer for the key last asked for (never for one superseded). */
  deliver(key: string, result: Loaded<V>): void;
  /** Answers kept, the oldest dropped first. Default 16. */
  keep?: number;
}

/**
 * A function to call with the key now wanted (`null`: nothing); `load` runs for at most one key
 * at a time, and failed loads are not kept.
 *
 * @example
 * ```ts
 * import { latestLoader } from "./latest.ts";
 * const shown: string[] = [];
 * const want = latestLoader((key) => Promise.resolve(key.toUpperCase()), {
 *   deliver: (key, r) => shown.push("value" in r ? r.value : `failed ${key}`),
 * });
 * want("a");
 * await new Promise((r) => setTimeout(r, 0));
 * shown; // ["A"]
 * ```
 */
export function latestLoader<V>(
  load: (key: string) => Promise<V>,
  options: LatestOptions<V>,
): (key: string | null) => void {
  const kept = new Map<string, V>();
  const keep = options.keep ?? 16;
  let wanted: string | null = null;
  let busy = false;

  async function pump(): Promise<void> {
    busy = true;
    while (wanted !== null) {
      const key = wanted;
      let result: Loaded<V>;
      try {
        const value = await load(key);
        kept.set(key, value);
        if (kept.size > keep) kept.delete(kept.keys().next().value!);
        result = { value };
      } catch (error) {
        result = { error };
      }
      if (wanted === key) {
        wanted = null;
        options.deliver(key, result);
      }
      // Otherwise another key was asked for meanwhile: the loop loads it (unless it is null).
    }
    busy = false;
  }

  return (key) => {
    const hit = key === null ? undefined : kept.get(key);
    if (key !== null && kept.has(key)) {
      wanted = null; // an answer in flight for an older key is no longer wanted
      options.deliver(key, { value: hit as V });
      return;
    }
    wanted = key;
    if (key !== null && !busy) void pump();
  };
}
