#!/usr/bin/env bash
# Compiles the Java adapter (and, with `test`, its serve suite) once per set of sources, into a
# cache outside the source tree, and prints the directory that holds the result:
#
#   conformance/adapters/java/build.sh main   # -> DIR with DIR/classes (and DIR/app.jsa)
#   conformance/adapters/java/build.sh test   # -> DIR with DIR/classes (main and test)
#
# The cache key is a hash of every source file, this script, the jars on the class path and the javac in
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
        cat "$here/build.sh"
        readlink -f "$javac_bin"
        for jar in "${jars[@]}"; do readlink -f "$jar"; done
        for f in "${sources[@]}"; do echo "${f#"$here"/}"; cat "$f"; done
    } | sha256sum | cut -c1-16
)"
out="$cache/$kind-$key"

# A class-data archive of what an instruction loads (the JSON, key, signature, TLS and
# java.net.http classes): started from it, the JVM maps those classes instead of loading and
# verifying them, most of an exec-mode adapter's start-up. The archive names the class path it
# was made with, so it is made in place, after the rename, and renamed into place in turn: a
# launcher that finds no app.jsa yet starts without one. The training run (Training.java)
# cancels against a gateway of its own over HTTP, and over HTTPS with a throw-away
# self-signed certificate made by keytool.
train() {
    local dir="$1" work
    work="$(mktemp -d "$dir/.training.XXXXXX")"
    keytool -genkeypair -alias training -keyalg RSA -keysize 2048 -dname CN=localhost \
        -ext SAN=dns:localhost -validity 2 -storetype PKCS12 -keystore "$work/training.p12" \
        -storepass training -keypass training >/dev/null 2>&1 &&
        keytool -exportcert -rfc -alias training -keystore "$work/training.p12" -storepass training \
            -file "$work/ca.pem" >/dev/null 2>&1 ||
        echo "build.sh: keytool failed: the archive is trained on HTTP only" >&2
    local args=()
    [ -f "$work/ca.pem" ] && args=("$work/training.p12" training "$work/ca.pem")
    if java -XX:ArchiveClassesAtExit="$work/app.jsa" -Xshare:auto -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
        -cp "$(cat "$dir/classpath")" example.alipay.adapter.Training "${args[@]}" >/dev/null 2>"$work/log" &&
        [ -s "$work/app.jsa" ]; then
        mv "$work/app.jsa" "$dir/app.jsa"
    else
        echo "build.sh: the class-data training run failed; the adapter starts without an archive:" >&2
        cat "$work/log" >&2
    fi
    rm -rf "$work"
}
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
    # A jar, not the directory: the JVM's class-data sharing archives classes from jars only.
    jar --create --file "$tmp/app.jar" -C "$tmp/classes" .
    rm -rf "$tmp/classes"
    echo "$out/app.jar:$classpath" > "$tmp/classpath"
    mv -T "$tmp" "$out"
    trap - EXIT
    if [ "$kind" = main ]; then
        train "$out"
    fi
fi
echo "$out"
