// `mechlab sweep --emit slurm|k8s`: the Slurm array script and the Kubernetes Indexed Job manifest
// checked for shape (nothing written, the sweep's flags in the command, the folder absolute, no
// shard of its own), and the Slurm script run by bash as two array tasks would run it: together
// they train the whole sweep, members equal to a local sweep's.
import * as assert from "node:assert/strict";
import { join } from "node:path";
import { listDir, withTempDir } from "../helpers.ts";
import { assertSameAsLocal, GRID, printed, slurmScript, TINY } from "./sweep_helpers.ts";

Deno.test("sweep --emit slurm: an sbatch array script of the sweep's command", async () => {
  await withTempDir(async (dir) => {
    const out = join(dir, "shared");
    const script = await slurmScript(out, 4);
    assert.deepEqual(await listDir(dir), [], "nothing written");
    const lines = script.split("\n");
    assert.equal(lines[0], "#!/bin/bash");
    assert.ok(lines.includes("#SBATCH --array=0-3"), script);
    assert.ok(lines.includes("#SBATCH --job-name=mechlab-s"), script);
    assert.ok(!script.includes("--gres"), "no GPU asked for a CPU sweep");
    const exec = lines.find((l) => l.startsWith("exec "))!;
    assert.match(exec, / sweep /);
    for (
      const flag of [
        "--preset=smoke",
        "--p=7",
        "--steps=20",
        `--out=${out}`,
        "--name=s",
        "--device=cpu",
      ]
    ) {
      assert.ok(exec.includes(` ${flag}`), `${flag} in ${exec}`);
    }
    assert.ok(exec.includes("'--grid=weight_decay=0.3,1 frac_train=0.3,0.6'"), exec);
    assert.doesNotMatch(exec, /--shard|--emit/);
    // Lines before the first command are comments or #SBATCH, as sbatch reads them.
    const firstCommand = lines.findIndex((l) => l !== "" && !l.startsWith("#"));
    assert.ok(lines.slice(0, firstCommand).every((l) => l.startsWith("#")));
    const gpu = await printed([
      ...TINY.slice(0, -2),
      "--device",
      "gpu",
      ...GRID,
      "--out",
      out,
      "--emit",
      "slurm",
      "--shard-count",
      "2",
    ]);
    assert.ok(gpu.includes("#SBATCH --gres=gpu:1"), gpu);
  });
});

Deno.test("sweep --emit k8s: an Indexed Job whose pods share --out through a volume claim", async () => {
  await withTempDir(async (dir) => {
    const out = join(dir, "shared");
    const yaml = await printed([
      ...TINY,
      ...GRID,
      "--out",
      out,
      "--name",
      "My_Sweep",
      "--emit",
      "k8s",
      "--shard-count",
      "3",
      "--image",
      "registry/mechlab:0.1",
    ]);
    assert.deepEqual(await listDir(dir), []);
    const field = (key: string) => new RegExp(`^\\s*${key}: (.*)$`, "m").exec(yaml)?.[1];
    assert.equal(field("apiVersion"), "batch/v1");
    assert.equal(field("kind"), "Job");
    assert.equal(field("name"), "mechlab-sweep-my-sweep");
    assert.equal(field("completionMode"), "Indexed");
    assert.equal(field("completions"), "3");
    assert.equal(field("parallelism"), "3");
    assert.equal(field("restartPolicy"), "Never");
    assert.equal(field("image"), '"registry/mechlab:0.1"');
    assert.equal(field("mountPath"), JSON.stringify(out));
    assert.equal(field("claimName"), '"mechlab-runs"');
    const command = JSON.parse(field("command")!) as string[];
    assert.deepEqual(command.slice(0, 2), ["mechlab", "sweep"]);
    for (const flag of ["--preset=smoke", `--out=${out}`, "--name=My_Sweep", "--shard-count=3"]) {
      assert.ok(command.includes(flag), `${flag} in ${command}`);
    }
    assert.ok(!command.some((a) => a.startsWith("--image") || a.startsWith("--emit")));
    // Indentation: two spaces a level, no tabs (YAML).
    assert.ok(yaml.split("\n").every((l) => !l.includes("\t") && /^( {2})*\S|^$/.test(l)));
  });
});

Deno.test({
  name: "sweep --emit slurm: the script run as array tasks 0 and 1 of 2 trains the local sweep",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withTempDir(async (dir) => {
      const out = join(dir, "shared");
      const script = await slurmScript(out, 2);
      await Deno.writeTextFile(join(dir, "job.sh"), script);
      for (const id of ["0", "1"]) {
        const env = { SLURM_ARRAY_TASK_ID: id, SLURM_ARRAY_TASK_COUNT: "2", NO_COLOR: "1" };
        const r = await new Deno.Command("bash", { args: [join(dir, "job.sh")], env, cwd: dir })
          .output();
        assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
        assert.match(new TextDecoder().decode(r.stdout), new RegExp(`shard ${id}/2: 2 here`));
      }
      await assertSameAsLocal(join(out, "s"), dir);
    }),
});
