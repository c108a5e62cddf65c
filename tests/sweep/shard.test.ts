// Dealing a sweep's members to shards: for many sweeps and shard counts, the shards are disjoint
// and together the whole sweep, an equal-shape group is split only where it alone is over a
// shard's share (and then into pieces of exactly that share but the last), and the load is within
// one share of even; and where the shard comes from (--shard, Slurm's or Kubernetes' environment).
import * as assert from "node:assert/strict";
import { shardFrom, shardMembers, type SweepMember } from "../../engine/sweep/mod.ts";
import { Rng } from "../../engine/tensor/mod.ts";

function members(groups: number[]): SweepMember[] {
  return groups.map((group, i) => ({ name: `m${i}`, values: {}, group }));
}

Deno.test("shardMembers: disjoint, complete, groups whole up to a share, loads even", () => {
  const rng = new Rng(6);
  const cases: number[][] = [
    [0, 0, 0, 0], // one group of 4 over 4 shards: one member each
    [0, 0, 1, 1, 2, 2, 3, 3],
    [0, 1, 0, 1, 0, 1],
    [0],
  ];
  for (let k = 0; k < 40; k++) {
    const M = 1 + Math.floor(rng.uniform() * 30);
    const G = 1 + Math.floor(rng.uniform() * 6);
    cases.push(Array.from({ length: M }, () => Math.floor(rng.uniform() * G)));
  }
  for (const groups of cases) {
    const all = members(groups);
    for (const N of [1, 2, 3, 4, 7]) {
      const shards = Array.from({ length: N }, (_, i) => shardMembers(all, { index: i, count: N }));
      const what = `groups [${groups}] in ${N}`;
      const union = shards.flat();
      assert.equal(new Set(union).size, union.length, `${what}: disjoint`);
      assert.deepEqual([...union].sort(), all.map((m) => m.name).sort(), `${what}: complete`);
      const share = Math.ceil(all.length / N);
      for (const s of shards) assert.ok(s.length <= 2 * share, `${what}: load ${s.length}`);
      // A group is on one shard, or (over a share) on ceil(size / share) shards at most.
      for (const g of new Set(groups)) {
        const size = groups.filter((x) => x === g).length;
        const holders = shards.filter((s) => s.some((n) => all[Number(n.slice(1))]!.group === g));
        assert.ok(
          holders.length <= Math.ceil(size / share),
          `${what}: group ${g} on ${holders.length}`,
        );
      }
      // Each shard lists its members in sweep order.
      for (const s of shards) {
        assert.deepEqual(
          s,
          [...s].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1))),
        );
      }
    }
  }
  // Hand-worked: groups {a, b} and {c} and {d} over 2 shards (share 2): the pair stays together.
  const four = [
    { name: "a", values: {}, group: 0 },
    { name: "b", values: {}, group: 0 },
    { name: "c", values: {}, group: 1 },
    { name: "d", values: {}, group: 2 },
  ];
  assert.deepEqual(shardMembers(four, { index: 0, count: 2 }), ["a", "b"]);
  assert.deepEqual(shardMembers(four, { index: 1, count: 2 }), ["c", "d"]);
  assert.throws(() => shardMembers(four, { index: 2, count: 2 }), /shard 2\/2: expected I\/N/);
});

Deno.test("shardFrom: --shard, then Slurm's array task, then a Kubernetes Indexed Job", () => {
  assert.deepEqual(shardFrom({ shard: "2/5" }, { SLURM_ARRAY_TASK_ID: "0" }), {
    index: 2,
    count: 5,
  });
  const slurm = {
    SLURM_ARRAY_TASK_ID: "12",
    SLURM_ARRAY_TASK_MIN: "10",
    SLURM_ARRAY_TASK_COUNT: "4",
  };
  assert.deepEqual(shardFrom({}, slurm), { index: 2, count: 4 });
  assert.deepEqual(shardFrom({ shardCount: 3 }, { JOB_COMPLETION_INDEX: "2" }), {
    index: 2,
    count: 3,
  });
  assert.equal(shardFrom({ shardCount: 3 }, {}), undefined);
  assert.throws(
    () => shardFrom({ shard: "1-4" }, {}),
    /^RangeError: --shard 1-4: expected I\/N, e.g. 0\/4$/,
  );
  assert.throws(() => shardFrom({ shard: "0/0" }, {}), /shard 0 of 0/);
  assert.throws(
    () => shardFrom({}, { JOB_COMPLETION_INDEX: "1" }),
    /give the Job's completions as --shard-count N/,
  );
  assert.throws(
    () => shardFrom({}, { SLURM_ARRAY_TASK_ID: "1" }),
    /SLURM_ARRAY_TASK_COUNT undefined: not a whole number/,
  );
  assert.throws(
    () => shardFrom({}, { SLURM_ARRAY_TASK_ID: "4", SLURM_ARRAY_TASK_COUNT: "4" }),
    /shard 4 of 4/,
  );
});
