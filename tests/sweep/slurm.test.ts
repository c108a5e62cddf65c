// A real Slurm array job: the test starts a one-node cluster of its own (munged, slurmctld and
// slurmd from Debian's munge and slurm-wlm, on this machine, with a fresh key, its own ports and a
// temporary state folder), submits `mechlab sweep --emit slurm`'s script with `sbatch --wait` as 4
// array tasks, and checks that they wrote the same members as one local sweep; then stops the
// cluster. Where slurm-wlm or munge is missing, or this is not root (slurmd starts jobs as their
// user), the test is ignored with the reason, or fails under CI=true (.ci/run installs them).
import * as assert from "node:assert/strict";
import { join } from "node:path";
import { until } from "../helpers.ts";
import { assertSameAsLocal, slurmScript } from "./sweep_helpers.ts";
import { Requirement } from "../requirements.ts";

const DAEMONS = ["/usr/sbin/munged", "/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/bin/sbatch"];

async function missing(): Promise<string | undefined> {
  for (const path of DAEMONS) {
    if (!(await Deno.stat(path).catch(() => undefined))) {
      return `${path} not found (apt-get install slurm-wlm munge)`;
    }
  }
  if (Deno.uid() !== 0) return "not root: the one-node cluster's slurmd runs jobs as root";
  return undefined;
}

const SLURM = new Requirement("Slurm tests", await missing());

/** Runs a command to its end; throws with its output if it fails. */
async function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  const r = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.code}: ${text}`);
  return text;
}

/** A TCP port free now. */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Starts munged, slurmctld and slurmd in `dir`; returns the environment that reaches them. */
async function startCluster(dir: string): Promise<Record<string, string>> {
  const host = Deno.hostname();
  await Deno.mkdir(join(dir, "state"));
  await Deno.mkdir(join(dir, "spool"));
  const key = join(dir, "munge.key");
  await Deno.writeFile(key, crypto.getRandomValues(new Uint8Array(1024)), { mode: 0o400 });
  const socket = join(dir, "munge.socket");
  await run("/usr/sbin/munged", [
    `--socket=${socket}`,
    `--key-file=${key}`,
    `--pid-file=${join(dir, "munged.pid")}`,
    `--log-file=${join(dir, "munged.log")}`,
    `--seed-file=${join(dir, "munge.seed")}`,
    "--force", // the temporary folder's permissions are the test's, not a system's
  ]);
  const conf = join(dir, "slurm.conf");
  await Deno.writeTextFile(
    conf,
    [
      "ClusterName=mechlabtest",
      `SlurmctldHost=${host}`,
      "SlurmUser=root",
      "SlurmdUser=root",
      "AuthType=auth/munge",
      `AuthInfo=socket=${socket}`,
      "CredType=cred/munge",
      `StateSaveLocation=${join(dir, "state")}`,
      `SlurmdSpoolDir=${join(dir, "spool")}`,
      `SlurmctldPidFile=${join(dir, "slurmctld.pid")}`,
      `SlurmdPidFile=${join(dir, "slurmd.pid")}`,
      `SlurmctldLogFile=${join(dir, "slurmctld.log")}`,
      `SlurmdLogFile=${join(dir, "slurmd.log")}`,
      `SlurmctldPort=${freePort()}`,
      `SlurmdPort=${freePort()}`,
      "ProctrackType=proctrack/linuxproc",
      "TaskPlugin=task/none",
      "SelectType=select/cons_tres",
      "SelectTypeParameters=CR_CPU",
      "SchedulerType=sched/builtin",
      "ReturnToService=2",
      "MpiDefault=none",
      "JobCompType=jobcomp/none",
      "AccountingStorageType=accounting_storage/none",
      `NodeName=${host} CPUs=${navigator.hardwareConcurrency} State=UNKNOWN`,
      // OverSubscribe: the 4 tasks run at once even on 2 cores.
      `PartitionName=test Nodes=${host} Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4`,
      "",
    ].join("\n"),
  );
  const env = { SLURM_CONF: conf };
  await run("/usr/sbin/slurmctld", ["-i", "-f", conf], env);
  await run("/usr/sbin/slurmd", ["-f", conf], env);
  await until("the Slurm node to be idle", async () => {
    const state = await run("sinfo", ["-h", "-o", "%t"], env).catch(() => "");
    return state.trim() === "idle";
  }, 60_000);
  return env;
}

/** Stops what `startCluster` started, by the process ids its daemons wrote. */
async function stopCluster(dir: string, env: Record<string, string>): Promise<void> {
  await run("scontrol", ["shutdown"], env).catch(() => undefined);
  const pids = ["slurmd.pid", "slurmctld.pid", "munged.pid"];
  await until("slurmctld and slurmd to end", async () => {
    for (const file of pids.slice(0, 2)) {
      const pid = Number(await Deno.readTextFile(join(dir, file)).catch(() => ""));
      if (pid > 0 && await Deno.stat(`/proc/${pid}`).then(() => true, () => false)) return false;
    }
    return true;
  }, 30_000).catch(() => undefined);
  for (const file of pids) {
    const pid = Number(await Deno.readTextFile(join(dir, file)).catch(() => ""));
    if (pid > 0) {
      try {
        Deno.kill(pid, "SIGTERM");
      } catch {
        // already ended
      }
    }
  }
}

SLURM.test({
  name: "sweep on Slurm: an array job of 4 shards writes the members of one local sweep",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    // Under /tmp, 0755: slurmd's job steps and munged reach the folder and its socket.
    const dir = await Deno.makeTempDir({ prefix: "mechlab-slurm-" });
    await Deno.chmod(dir, 0o755);
    let env: Record<string, string> = {};
    try {
      env = await startCluster(dir);
      const out = join(dir, "shared");
      const script = await slurmScript(out, 4);
      await Deno.writeTextFile(join(dir, "job.sh"), script);
      const submitted = await run("sbatch", ["--wait", `--chdir=${dir}`, join(dir, "job.sh")], env)
        .catch(async (e) => {
          const logs = [...Deno.readDirSync(dir)].filter((f) => f.name.startsWith("slurm-"));
          const texts = await Promise.all(logs.map((f) => Deno.readTextFile(join(dir, f.name))));
          throw new Error(`${e.message}\n${texts.join("\n")}`);
        });
      assert.match(submitted, /Submitted batch job \d+/);
      const logs = [...Deno.readDirSync(dir)].map((f) => f.name).filter((n) =>
        n.startsWith("slurm-")
      );
      assert.equal(logs.length, 4, `one log per array task: ${logs}`);
      for (const log of logs) {
        assert.match(await Deno.readTextFile(join(dir, log)), /shard \d\/4: 1 here/);
      }

      await assertSameAsLocal(join(out, "s"), dir);
    } finally {
      await stopCluster(dir, env);
      // A daemon may still be writing its last log lines as it ends: retry the removal.
      const removed = () => Deno.remove(dir, { recursive: true }).then(() => true, () => false);
      await until("the cluster's folder to be removed", removed, 30_000);
    }
  },
});
