/**
 * `mechlab sweep ... --emit slurm|k8s`: the job that trains a sweep on a cluster, printed rather
 * than run. Both start N copies of the same `mechlab sweep` command, each training its shard
 * (`engine/sweep/shard.ts`) into the same sweep folder on a shared file system (`--out`, made
 * absolute): a Slurm array job (`sbatch --array=0-(N-1)`; each task reads `SLURM_ARRAY_TASK_ID` and
 * `SLURM_ARRAY_TASK_COUNT`) or a Kubernetes Indexed Job (`completionMode: Indexed`; each pod reads
 * `JOB_COMPLETION_INDEX`, with `--shard-count N` in its command).
 *
 * @module
 */

import { mechlabCommand } from "../engine/server/launcher.ts";
import { quote } from "./self_command.ts";

/** What both emitters need: the sweep's command (its flags, without the shard or emit flags). */
export interface EmitOptions {
  /** `sweep`'s flags for every shard, `--out` absolute and `--name` given. */
  args: string[];
  /** The sweep's folder name (`--name`). */
  name: string;
  /** The sweep folder's absolute path. */
  dir: string;
  /** N, the shards. */
  shards: number;
  /** The members in all. */
  members: number;
  /** Whether members train on a GPU (`--device gpu`): the job asks for one per shard. */
  gpu: boolean;
}

/**
 * An `sbatch` script for a Slurm array job of `shards` tasks, each running this program's
 * `mechlab sweep` (the same Deno and `main.ts`, or the same executable, by absolute path: they
 * must be where every node sees them).
 *
 * @example
 * ```ts
 * import { slurmScript } from "./sweep_emit.ts";
 * const script = slurmScript({
 *   args: ["--preset=smoke", "--out=/shared/runs", "--name=s"], name: "s", dir: "/shared/runs/s",
 *   shards: 4, members: 8, gpu: false,
 * });
 * script.includes("#SBATCH --array=0-3"); // true
 * ```
 */
export function slurmScript(o: EmitOptions): string {
  const line = mechlabCommand(["sweep", ...o.args]);
  return [
    "#!/bin/bash",
    `# mechlab sweep ${o.name}: ${o.members} members in ${o.shards} shards, one per array task, all`,
    `# writing ${o.dir} (a file system every node sees). Submit: sbatch THIS_FILE`,
    `#SBATCH --job-name=mechlab-${o.name}`,
    `#SBATCH --array=0-${o.shards - 1}`,
    ...(o.gpu ? ["#SBATCH --gres=gpu:1"] : []),
    "set -eu",
    "# Each task trains shard SLURM_ARRAY_TASK_ID of SLURM_ARRAY_TASK_COUNT.",
    `exec ${[line.program, ...line.args].map(quote).join(" ")}`,
    "",
  ].join("\n");
}

/** A name Kubernetes takes (RFC 1123 label): lower case, digits and `-`, at most 63. */
function k8sName(name: string): string {
  const clean = name.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "");
  return `mechlab-sweep-${clean}`.slice(0, 63).replace(/-+$/, "");
}

/**
 * A Kubernetes Indexed Job manifest (YAML) of `shards` completions, each pod running `mechlab
 * sweep` from `image` (an image holding the compiled `mechlab` on its PATH) with the sweep folder's
 * parent mounted from the PersistentVolumeClaim `claim`.
 *
 * @example
 * ```ts
 * import { k8sManifest } from "./sweep_emit.ts";
 * const yaml = k8sManifest({
 *   args: ["--preset=smoke", "--out=/shared/runs", "--name=s"], name: "s", dir: "/shared/runs/s",
 *   shards: 4, members: 8, gpu: false,
 * }, { image: "mechlab:latest", claim: "mechlab-runs", mount: "/shared/runs" });
 * yaml.includes("completionMode: Indexed"); // true
 * ```
 */
export function k8sManifest(
  o: EmitOptions,
  pod: { image: string; claim: string; mount: string },
): string {
  const command = ["mechlab", "sweep", ...o.args, `--shard-count=${o.shards}`];
  // JSON strings are YAML's double-quoted scalars: every value is quoted safely.
  const q = (s: string) => JSON.stringify(s);
  return [
    `# mechlab sweep ${o.name}: ${o.members} members in ${o.shards} shards, one per completion index,`,
    `# all writing ${o.dir} on the volume claim ${pod.claim}. Apply: kubectl apply -f THIS_FILE`,
    "apiVersion: batch/v1",
    "kind: Job",
    "metadata:",
    `  name: ${k8sName(o.name)}`,
    "spec:",
    "  completionMode: Indexed",
    `  completions: ${o.shards}`,
    `  parallelism: ${o.shards}`,
    "  backoffLimit: 0",
    "  template:",
    "    spec:",
    "      restartPolicy: Never",
    "      containers:",
    "        - name: mechlab",
    `          image: ${q(pod.image)}`,
    `          command: [${command.map(q).join(", ")}]`,
    ...(o.gpu
      ? ["          resources:", "            limits:", '              nvidia.com/gpu: "1"']
      : []),
    "          volumeMounts:",
    "            - name: runs",
    `              mountPath: ${q(pod.mount)}`,
    "      volumes:",
    "        - name: runs",
    "          persistentVolumeClaim:",
    `            claimName: ${q(pod.claim)}`,
    "",
  ].join("\n");
}
