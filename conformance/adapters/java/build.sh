#!/usr/bin/env bash
# Compiles the Java adapter (and, with `test`, its serve suite) once per set of sources, into a
# cache outside the source tree, and prints the directory that holds the result:
#
#   conformance/adapters/java/build.sh main   # -> DIR with DIR/classes (and DIR/app.jsa)
#   conformance/adapters/java/build.sh test   # -> DIR with DIR/classes (main and test)
#
# The cache key is a hash of every source file, the jars on the class path and the javac in
# use, so an edit or a new JDK rebuilds. Concurrent first runs (the kit starts several adapters
# at once) do not race: the first takes a lock and builds into a temporary directory renamed
# into place; the others wait for the lock and find the build done.
#
# Environment: ALIPAY_KIT_JAVA_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/alipay-cancel-kit/java),
# JAVA_LIBS (default /usr/share/java).
set -euo pipefail

kind="${1:?usage: build.sh main|test}"
case "$kind" in main | test) ;; *) echo "build.sh: expected main or test, found '$kind'" >&2; exit 2 ;; esac

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
libs="${JAVA_LIBS:-/usr/share/java}"
cache="${ALIPAY_KIT_JAVA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/alipay-cancel-kit/java}"

jars=("$libs/jackson-databind.jar" "$libs/jackson-core.jar" "$libs/jackson-annotations.jar")
[ "$kind" = test ] && jars+=("$libs/junit-platform-console-standalone.jar")
for jar in "${jars[@]}"; do
    if [ ! -r "$jar" ]; then
        echo "build.sh: $jar is missing: apt-get install -y libjackson2-databind-java junit5 (or set JAVA_LIBS)" >&2
        exit 2
    fi
done
javac_bin="$(command -v javac)" || { echo "build.sh: javac not found: install a JDK 17 (openjdk-17-jdk-headless)" >&2; exit 2; }

sources=()
dirs=("$here/src/main/java")
[ "$kind" = test ] && dirs+=("$here/src/test/java")
while IFS= read -r -d '' f; do sources+=("$f"); done < <(find "${dirs[@]}" -name '*.java' -print0 | LC_ALL=C sort -z)

classpath="$(IFS=:; echo "${jars[*]}")"
key="$(
    {
        echo "$kind"
        readlink -f "$javac_bin"
        for jar in "${jars[@]}"; do readlink -f "$jar"; done
        for f in "${sources[@]}"; do echo "${f#"$here"/}"; cat "$f"; done
    } | sha256sum | cut -c1-16
)"
out="$cache/$kind-$key"
if [ -d "$out" ]; then
    echo "$out"
    exit 0
fi

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [ ! -d "$out" ]; then
    tmp="$(mktemp -d "$cache/.build-$kind.XXXXXX")"
    trap 'rm -rf "$tmp"' EXIT
    echo "build.sh: compiling the Java $kind sources into $out" >&2
    "$javac_bin" -encoding UTF-8 -Xlint:all -Werror -d "$tmp/classes" -cp "$classpath" "${sources[@]}" >&2
    echo "$classpath" > "$tmp/classpath"
    if [ "$kind" = main ]; then
        # A class-data archive of what an instruction loads (the JSON, key, signature, TLS
        # and java.net.http classes): started from it, the JVM maps those classes instead of
        # loading and verifying them, which is most of an exec-mode adapter's start-up.
        # The training run signs and verifies with throw-away keys, and calls a closed port.
        java -XX:ArchiveClassesAtExit="$tmp/app.jsa" -Xshare:auto -XX:TieredStopAtLevel=1 \
            -cp "$tmp/classes:$classpath" example.alipay.adapter.Training >/dev/null 2>"$tmp/training.log" ||
            { echo "build.sh: the class-data training run failed (see below); starting without it" >&2; cat "$tmp/training.log" >&2; rm -f "$tmp/app.jsa"; }
    fi
    mv -T "$tmp" "$out"
    trap - EXIT
fi
echo "$out"
