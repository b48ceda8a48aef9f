#!/usr/bin/env python3
"""Writes the alipay-cancel-kit wheel from a binary that is already built: no compiler, no
maturin, only the standard library (what maturin's `bindings = "bin"` writes for ruff and uv).

The wheel holds
  alipay_cancel_kit/...                            the Python package (packaging/python/src/)
  alipay_cancel_kit-VER.data/scripts/alipay-cancel-kit   the binary, mode 0755: pip puts it in
                                                   the environment's bin/, on the PATH
  alipay_cancel_kit-VER.dist-info/                 METADATA, WHEEL, entry_points.txt (pytest11),
                                                   RECORD (sha256 of every other file)

The platform tag follows from the binary. A static x86-64 binary (no program interpreter, no
needed shared library) runs on any x86-64 Linux the Rust standard library supports (kernel
3.2+), so it is tagged for every glibc from 2.17 (manylinux2014) and every musl from 1.1.
A dynamically linked binary is refused, unless `--allow-dynamic`, which tags the wheel
`linux_x86_64`: pip installs that on the machine that built it, PyPI refuses it (for local
tests only). The version is `[package] version` of Cargo.toml, in PEP 440 spelling.

The wheel is reproducible: sorted entries, one fixed timestamp (SOURCE_DATE_EPOCH when set).

Usage: build_wheel.py BINARY OUTDIR [--cargo-toml FILE] [--allow-dynamic]
"""

import argparse
import base64
import hashlib
import io
import os
import re
import struct
import sys
import time
import zipfile

NAME = "alipay-cancel-kit"
DIST = "alipay_cancel_kit"  # the distribution name as a wheel's file names spell it
SCRIPT = "alipay-cancel-kit"
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PACKAGE_DIR = os.path.join(HERE, "src", DIST)

STATIC_TAGS = ("manylinux_2_17_x86_64", "manylinux2014_x86_64", "musllinux_1_1_x86_64")
DYNAMIC_TAGS = ("linux_x86_64",)

# zlib's default: level 9 takes three times as long on the 21 MB binary for 0.8 % less.
COMPRESS_LEVEL = 6

ENTRY_POINTS = "[pytest11]\nalipay_cancel_kit = alipay_cancel_kit.plugin\n"

# ELF: what tells a static executable from a dynamic one.
EM_X86_64 = 62
PT_DYNAMIC, PT_INTERP = 2, 3
DT_NULL, DT_NEEDED = 0, 1


class BuildError(Exception):
    """The inputs cannot make a correct wheel; the message names the file and the rule."""


def cargo_version(cargo_toml):
    """`[package] version` of Cargo.toml, converted to PEP 440 (`1.2.0-rc.1` -> `1.2.0rc1`)."""
    section = None
    with open(cargo_toml, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            stripped = line.split("#", 1)[0].strip()
            header = re.fullmatch(r"\[([^\]]+)\]", stripped)
            if header:
                section = header.group(1).strip()
                continue
            found = re.fullmatch(r'version\s*=\s*"([^"]+)"', stripped)
            if section == "package" and found:
                return pep440(found.group(1), "%s:%d" % (cargo_toml, number))
    raise BuildError("%s: no `version = \"...\"` in [package]" % cargo_toml)


def pep440(semver, where):
    found = re.fullmatch(r"(\d+\.\d+\.\d+)(?:-(alpha|beta|rc)\.?(\d+))?", semver)
    if not found:
        raise BuildError(
            "%s: version %r is not MAJOR.MINOR.PATCH with an optional -alpha.N, -beta.N or -rc.N, "
            "the forms that have a PEP 440 spelling" % (where, semver)
        )
    release, kind, number = found.groups()
    return release + ({"alpha": "a", "beta": "b", "rc": "rc"}[kind] + number if kind else "")


def elf_linkage(path):
    """`"static"` or `"dynamic"` for an x86-64 ELF executable; raises BuildError otherwise."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF":
        raise BuildError("%s: not an ELF file (the wheel is for x86-64 Linux)" % path)
    if data[4] != 2 or data[5] != 1:
        raise BuildError("%s: not a 64-bit little-endian ELF file" % path)
    (machine,) = struct.unpack_from("<H", data, 18)
    if machine != EM_X86_64:
        raise BuildError("%s: ELF machine %d, not x86-64 (%d)" % (path, machine, EM_X86_64))
    phoff, = struct.unpack_from("<Q", data, 32)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    needed = False
    for index in range(phnum):
        base = phoff + index * phentsize
        p_type, _flags, p_offset, _vaddr, _paddr, p_filesz = struct.unpack_from("<IIQQQQ", data, base)
        if p_type == PT_INTERP:
            return "dynamic"  # a program interpreter (ld-linux, ld-musl) loads it
        if p_type == PT_DYNAMIC:
            # A static-pie binary has a dynamic section for its own relocations, but needs
            # no library: look for DT_NEEDED.
            for entry in range(p_offset, p_offset + p_filesz, 16):
                tag, _value = struct.unpack_from("<qQ", data, entry)
                if tag == DT_NULL:
                    break
                needed = needed or tag == DT_NEEDED
    return "dynamic" if needed else "static"


def record_hash(data):
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def metadata(version, readme):
    lines = [
        "Metadata-Version: 2.4",
        "Name: %s" % NAME,
        "Version: %s" % version,
        "Summary: Conformance kit and signing mock gateway for Alipay's (Antom's) payment cancel API, with a pytest plugin",
        "Keywords: alipay,antom,payments,conformance,mock,pytest",
        "License-Expression: MIT OR Apache-2.0",
        "Requires-Python: >=3.8",
        "Classifier: Development Status :: 4 - Beta",
        "Classifier: Environment :: Console",
        "Classifier: Framework :: Pytest",
        "Classifier: Intended Audience :: Developers",
        "Classifier: Operating System :: POSIX :: Linux",
        "Classifier: Programming Language :: Python :: 3",
        "Classifier: Programming Language :: Rust",
        "Classifier: Topic :: Software Development :: Testing",
        "Description-Content-Type: text/markdown; charset=UTF-8",
    ]
    return ("\n".join(lines) + "\n\n" + readme).encode("utf-8")


def wheel_file(tags):
    lines = ["Wheel-Version: 1.0", "Generator: alipay-cancel-kit packaging/python/build_wheel.py", "Root-Is-Purelib: false"]
    lines += ["Tag: py3-none-%s" % tag for tag in tags]
    return ("\n".join(lines) + "\n").encode("utf-8")


def package_files():
    """(archive name, bytes) of the Python package, sorted; caches and stray files left out."""
    files = []
    for folder, dirs, names in os.walk(PACKAGE_DIR):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(names):
            if not (name.endswith(".py") or name == "py.typed"):
                continue
            path = os.path.join(folder, name)
            relative = os.path.relpath(path, os.path.dirname(PACKAGE_DIR)).replace(os.sep, "/")
            with open(path, "rb") as f:
                files.append((relative, f.read()))
    if not any(name == DIST + "/__init__.py" for name, _ in files):
        raise BuildError("%s: no __init__.py (the package the wheel carries)" % PACKAGE_DIR)
    return files


def build(binary, outdir, cargo_toml=None, allow_dynamic=False):
    """Writes the wheel into `outdir` and returns its path."""
    cargo_toml = cargo_toml or os.path.join(ROOT, "Cargo.toml")
    version = cargo_version(cargo_toml)
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        raise BuildError("%s: not an executable file" % binary)
    linkage = elf_linkage(binary)
    if linkage == "dynamic" and not allow_dynamic:
        raise BuildError(
            "%s is dynamically linked: a wheel tagged manylinux/musllinux must carry the static "
            "x86_64-unknown-linux-musl build (or pass --allow-dynamic for a local linux_x86_64 wheel)" % binary
        )
    tags = STATIC_TAGS if linkage == "static" else DYNAMIC_TAGS
    with open(os.path.join(HERE, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    with open(binary, "rb") as f:
        binary_bytes = f.read()

    dist_info = "%s-%s.dist-info" % (DIST, version)
    data = "%s-%s.data" % (DIST, version)
    # (name, bytes, unix mode): the binary is the only executable.
    entries = [(name, content, 0o644) for name, content in package_files()]
    entries.append(("%s/scripts/%s" % (data, SCRIPT), binary_bytes, 0o755))
    entries.append(("%s/METADATA" % dist_info, metadata(version, readme), 0o644))
    entries.append(("%s/WHEEL" % dist_info, wheel_file(tags), 0o644))
    entries.append(("%s/entry_points.txt" % dist_info, ENTRY_POINTS.encode("utf-8"), 0o644))
    record_name = "%s/RECORD" % dist_info
    record = io.StringIO()
    for name, content, _mode in entries:
        record.write("%s,%s,%d\n" % (name, record_hash(content), len(content)))
    record.write("%s,,\n" % record_name)
    entries.append((record_name, record.getvalue().encode("utf-8"), 0o644))

    os.makedirs(outdir, exist_ok=True)
    filename = "%s-%s-py3-none-%s.whl" % (DIST, version, ".".join(tags))
    path = os.path.join(outdir, filename)
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "315532800"))  # 1980-01-01, zip's first day
    stamp = time.gmtime(max(epoch, 315532800))[:6]
    partial = path + ".partial"
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as wheel:
        for name, content, mode in entries:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.external_attr = (0o100000 | mode) << 16  # a regular file with its permission bits
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so installers honour the mode
            wheel.writestr(info, content, compress_type=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL)
    os.replace(partial, path)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("binary", help="the alipay-cancel-kit binary (the static musl build)")
    parser.add_argument("outdir", help="the folder the wheel is written to")
    parser.add_argument("--cargo-toml", help="the Cargo.toml whose [package] version is the wheel's (default: the repository's)")
    parser.add_argument("--allow-dynamic", action="store_true", help="accept a dynamically linked binary; tag the wheel linux_x86_64")
    args = parser.parse_args(argv)
    try:
        path = build(args.binary, args.outdir, args.cargo_toml, args.allow_dynamic)
    except BuildError as error:
        print("build_wheel: %s" % error, file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
