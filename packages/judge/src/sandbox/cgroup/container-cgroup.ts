// The Docker engine's view of one container's cgroup, found on the host from the pid
// of the container's init (so the judge needs the host's pid namespace and cgroup
// tree). Docker's API samples stats about once a second, far too slowly for per-run
// figures, so the engine reads and writes the container's cgroup files directly:
// the same Cgroup as the bwrap engine's run groups (cgroup.ts).
import { readFileSync } from "node:fs";
import { CgroupV1, CgroupV2, type Cgroup } from "./cgroup.js";
import { cgroupMounts, dirFor, readNumber, tryWrite, v1Mount } from "./files.js";

export function openContainerCgroup(pid: number): Cgroup {
  let procCgroup: string;
  try {
    procCgroup = readFileSync(`/proc/${pid}/cgroup`, "utf8");
  } catch (err) {
    throw new Error(`cannot read /proc/${pid}/cgroup (${(err as Error).message}); the docker engine must run in the host's pid namespace`);
  }
  const lines = procCgroup
    .split("\n")
    .filter(Boolean)
    .map((l) => {
      const first = l.indexOf(":");
      const second = l.indexOf(":", first + 1);
      return { controllers: l.slice(first + 1, second).split(","), path: l.slice(second + 1) };
    });
  const mounts = cgroupMounts();
  const v1 = (controller: string) => {
    const line = lines.find((l) => l.controllers.includes(controller));
    const mount = v1Mount(mounts, controller);
    return line && mount ? dirFor(mount, line.path) : null;
  };
  const memory = v1("memory");
  if (memory) {
    const cpuacct = v1("cpuacct");
    const pids = v1("pids");
    if (!cpuacct || !pids) throw new Error("cgroup v1 host without cpuacct or pids controller: the docker engine cannot measure runs");
    // No cpuset dir: the container is pinned by the daemon (HostConfig.CpusetCpus).
    const cg = new CgroupV1({ memory, cpuacct, pids, freezer: v1("freezer"), cpuset: null });
    // Fail now, with the path, rather than on the first run.
    cg.memoryUsage();
    cg.cpuUsageNs();
    return cg;
  }
  const unified = lines.find((l) => l.controllers.length === 1 && l.controllers[0] === "");
  const mount = mounts.find((m) => m.type === "cgroup2");
  if (!unified || !mount) throw new Error(`no usable cgroup for pid ${pid} (neither a v1 memory hierarchy nor cgroup2 is mounted)`);
  const dir = dirFor(mount, unified.path);
  readNumber(`${dir}/memory.current`);
  // Docker sets memory.swap.max from MemorySwap; make sure no run can swap.
  tryWrite(`${dir}/memory.swap.max`, 0);
  return new CgroupV2(dir);
}
