/**
 * `mechlab sweep` on a GPU: fresh members of one shape train together, one pass for many models
 * (`engine/train/group_trainer.ts`); members that cannot (minibatches, clipping, Grokfast,
 * LayerNorm: one line says why), members started before, and the CPU path train one after another
 * in `sweep.ts`'s loop.
 *
 * @module
 */

import { buildTask } from "../engine/data/mod.ts";
import { type Device, pickDevice } from "../engine/gpu/mod.ts";
import type { RunConfig } from "../engine/runs/mod.ts";
import { setMemberStatus } from "../engine/sweep/mod.ts";
import { groupKey, groupRefusal } from "../engine/train/group_trainer.ts";
import { groupCapacity, startGroup } from "../engine/train/run.ts";

/** What `trainGroups` is given: the sweep, this shard's members not yet started, the device. */
export interface GroupRequest {
  dir: string;
  configs: Map<string, RunConfig>;
  fresh: string[];
  device: Device;
  stopped: () => boolean;
}

/**
 * Trains `fresh` members in groups of one shape on the GPU (none on the CPU path, or alone in
 * their shape); returns the members it trained to the end.
 *
 * @example
 * ```ts ignore
 * const done = await trainGroups({ dir, configs, fresh: names, device: "gpu", stopped: () => false });
 * ```
 */
export async function trainGroups(r: GroupRequest): Promise<Set<string>> {
  const done = new Set<string>();
  if (r.device === "cpu") return done;
  const buckets = new Map<string, string[]>();
  for (const name of r.fresh) {
    const c = r.configs.get(name)!;
    if (groupRefusal(c.model, c.train) !== undefined) continue;
    const key = groupKey(c);
    buckets.set(key, [...(buckets.get(key) ?? []), name]);
  }
  const groups = [...buckets.values()].filter((b) => b.length > 1);
  if (groups.length === 0) {
    const why = r.fresh.map((n) => r.configs.get(n)!).map((c) => groupRefusal(c.model, c.train))
      .find((w) => w !== undefined);
    if (why !== undefined) console.log(`members train one after another: ${why}`);
    return done;
  }
  const gpu = await pickDevice(r.device);
  if (gpu === undefined) return done;
  try {
    for (const names of groups) {
      const first = r.configs.get(names[0]!)!;
      const size = groupCapacity(first, buildTask(first.task), gpu);
      for (let i = 0; i < names.length && !r.stopped(); i += size) {
        const chunk = names.slice(i, i + size);
        if (chunk.length < 2) break;
        console.log(`\n${chunk.length} members together in one pass: ${chunk.join(", ")}`);
        for (const n of chunk) await setMemberStatus(r.dir, n, "running");
        const last = new Map<string, number>();
        const members = chunk.map((name) => ({ config: r.configs.get(name)!, name }));
        await startGroup(gpu, members, r.dir, {
          shouldStop: r.stopped,
          onMetrics: (name, step, m) => {
            last.set(name, step);
            if (name === chunk[0]) {
              const acc = m["test/acc"]?.toFixed(3) ?? "-";
              console.log(`  step ${step}: ${chunk[0]} test acc ${acc}, ...`);
            }
          },
        });
        for (const n of chunk) {
          const finished = last.get(n) === r.configs.get(n)!.train.steps;
          await setMemberStatus(r.dir, n, finished ? "done" : "stopped");
          if (finished) done.add(n);
        }
      }
    }
  } finally {
    gpu.destroy();
  }
  return done;
}
