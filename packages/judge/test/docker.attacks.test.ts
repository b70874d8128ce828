// The attack corpus against the docker engine: the very cases bwrap.attacks.test.ts
// runs, through createJudge({ engine: "docker" }), plus what only this engine could
// leak: the storage driver's layer dirs, which the root overlay Docker makes names in
// its mount options (root-view.c replaces that root before any program runs). Needs a
// Docker daemon and the sonocode-runtime image (scripts/runtime/docker-image.sh);
// skips with the reason otherwise.
import assert from "node:assert/strict";
import { test } from "node:test";
import Docker from "dockerode";
import { createDockerEngine, createJudge } from "../src/index.js";
import { defineAttackSuite } from "./attacks.suite.js";
import { SAFE } from "./attacks.corpus.js";
import { dockerSkipReason } from "./docker.availability.js";

const unavailable = await dockerSkipReason(createDockerEngine({}));

if (unavailable) {
  test("attack corpus (docker)", { skip: unavailable }, () => {});
} else {
  defineAttackSuite({
    engine: "docker",
    makeJudge: () => createJudge({ engine: "docker", maxConcurrency: 2 }),
    makeEngine: () => createDockerEngine({}),
  });

  test("docker: no Docker data root or overlay layer dir in any /proc/*/{mountinfo,mounts}, when run or compiled", async () => {
    const dataRoot = ((await new Docker().info()) as { DockerRootDir?: string }).DockerRootDir ?? "/var/lib/docker";
    const needles = [dataRoot, "overlay2", "upperdir=", "workdir="];
    const judge = await createJudge({ engine: "docker", maxConcurrency: 1 });
    try {
      const run = await judge.judge({
        language: "PYTHON",
        source: [
          "import os",
          `needles = ${JSON.stringify(needles)}`,
          "files = [f'/proc/{p}/{n}' for p in os.listdir('/proc') if p.isdigit() or p in ('self', 'thread-self') for n in ('mountinfo', 'mounts')]",
          "found = []",
          "for f in files:",
          "    try:",
          "        data = open(f, 'rb').read().decode('latin1')",
          "    except OSError:",
          "        continue",
          "    found += [f + ': ' + n for n in needles if n in data]",
          "print('LEAK ' + repr(sorted(set(found))) if found else 'SAFE')",
        ].join("\n"),
        tests: SAFE,
      });
      assert.equal(run.status, "Success", JSON.stringify(run.failedTest ?? run));
      // The compiler reads them too (include_bytes! at compile time), and the program looks at what it got.
      const compiled = await judge.judge({
        language: "RUST",
        source: [
          'const SEEN: &[&[u8]] = &[include_bytes!("/proc/self/mountinfo"), include_bytes!("/proc/1/mountinfo"), include_bytes!("/proc/self/mounts")];',
          `const NEEDLES: &[&str] = &${JSON.stringify(needles)};`,
          "fn main() {",
          "    let text: Vec<String> = SEEN.iter().map(|b| String::from_utf8_lossy(b).into_owned()).collect();",
          '    let root = text[0].lines().any(|l| l.contains(" / / ") && l.contains("sonocode-root"));',
          "    let leak = NEEDLES.iter().any(|n| text.iter().any(|t| t.contains(n)));",
          '    println!("{}", if leak { "LEAK" } else if !root { "NO-ROOT-LINE" } else { "SAFE" });',
          "}",
        ].join("\n"),
        tests: SAFE,
      });
      assert.equal(compiled.status, "Success", JSON.stringify(compiled.failedTest ?? compiled.compileOutput ?? compiled));
    } finally {
      await judge.close();
    }
  });
}
