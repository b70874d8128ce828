// What the Docker engine binds into its containers from the host, each from a tmpfs
// of its own (sandbox/host-mounts.ts), so the container's mountinfo shows no host
// path: our run helper as the container's init (instead of Docker's docker-init,
// bound from the host's /usr/bin), and /etc/hosts, /etc/hostname and
// /etc/resolv.conf (instead of Docker's, bound from /var/lib/docker/containers/<id>).
import { chmod, copyFile, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { mount, mountTmpfs, ownedPath, removeOwned } from "../../sandbox/host-mounts.js";


export const INIT_IN_CONTAINER = "/run/run";
const ETC_FILES: Record<string, string> = {
  hosts: "127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.1.1\tbox\n",
  hostname: "box\n",
  // No network: no resolver.
  "resolv.conf": "",
};

export interface DockerHostFiles {
  /** HostConfig.Binds entries. */
  binds: string[];
  release(): Promise<void>;
}

export async function mountDockerHostFiles(workRoot: string, helperBinary: string): Promise<DockerHostFiles> {
  const base = ownedPath(workRoot, "d");
  const run = join(base, "run");
  const etc = join(base, "etc");
  await mkdir(base, { mode: 0o711 });
  try {
    await mountTmpfs(run, "sonocode-run", "size=4m,mode=755,nosuid,nodev");
    await copyFile(helperBinary, join(run, "run"));
    await chmod(join(run, "run"), 0o755);
    await mount(["-o", "remount,ro", run]);
    await mountTmpfs(etc, "sonocode-etc", "size=64k,mode=755,nosuid,nodev");
    for (const [name, content] of Object.entries(ETC_FILES)) await writeFile(join(etc, name), content, { mode: 0o644 });
    await mount(["-o", "remount,ro", etc]);
  } catch (error) {
    await removeOwned(base).catch(() => undefined);
    throw error;
  }
  return {
    binds: [`${run}:/run:ro`, ...Object.keys(ETC_FILES).map((name) => `${join(etc, name)}:/etc/${name}:ro`)],
    release: () => removeOwned(base),
  };
}
