"""Tests of packaging/python/build_wheel.py: the wheel it writes is one pip and the wheel
specification accept (RECORD hashes, the script's mode, the tags, the metadata), and the
binary decides the tags. Binaries are made here as minimal ELF files: only their headers are
read. Needs only pytest (`python -m pytest packaging/python/tests/test_build_wheel.py`).
"""

import base64
import csv
import hashlib
import importlib.util
import io
import os
import pathlib
import struct
import zipfile

import pytest

HERE = pathlib.Path(__file__).resolve().parent
SPEC = importlib.util.spec_from_file_location("build_wheel", HERE.parent / "build_wheel.py")
build_wheel = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(build_wheel)

PT_LOAD, PT_DYNAMIC, PT_INTERP = 1, 2, 3
DT_NULL, DT_NEEDED, DT_RELA = 0, 1, 7


def elf(machine=62, segments=()):
    """A 64-bit little-endian ELF executable header with these (p_type, payload) segments."""
    phoff, phentsize = 64, 56
    offset = phoff + phentsize * len(segments)
    headers, payloads = b"", b""
    for p_type, payload in segments:
        headers += struct.pack("<IIQQQQQQ", p_type, 5, offset, 0, 0, len(payload), len(payload), 8)
        payloads += payload
        offset += len(payload)
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    header = struct.pack("<16sHHIQQQIHHHHHH", ident, 2, machine, 1, 0, phoff, 0, 0, 64, phentsize, len(segments), 64, 0, 0)
    return header + headers + payloads


def dynamic(*tags):
    return b"".join(struct.pack("<qQ", tag, 0) for tag in tags + (DT_NULL,))


STATIC = elf(segments=[(PT_LOAD, b"")])
STATIC_PIE = elf(segments=[(PT_LOAD, b""), (PT_DYNAMIC, dynamic(DT_RELA))])
DYNAMIC = elf(segments=[(PT_INTERP, b"/lib64/ld-linux-x86-64.so.2\0"), (PT_DYNAMIC, dynamic(DT_NEEDED))])
NEEDS_A_LIBRARY = elf(segments=[(PT_DYNAMIC, dynamic(DT_RELA, DT_NEEDED))])


def write_binary(tmp_path, content, name="alipay-cancel-kit"):
    path = tmp_path / name
    path.write_bytes(content)
    path.chmod(0o755)
    return str(path)


def cargo_toml(tmp_path, version):
    path = tmp_path / "Cargo.toml"
    path.write_text(
        '[workspace]\nversion = "9.9.9"\n\n[package]\nname = "alipay-cancel-kit"\n'
        'version = "%s"  # the one\nedition = "2021"\n\n[dependencies]\nserde = { version = "1" }\n' % version
    )
    return str(path)


@pytest.mark.parametrize(
    "content, linkage",
    [(STATIC, "static"), (STATIC_PIE, "static"), (DYNAMIC, "dynamic"), (NEEDS_A_LIBRARY, "dynamic")],
    ids=["static", "static-pie", "dynamic", "needs-a-library"],
)
def test_linkage_is_read_from_the_program_headers(tmp_path, content, linkage):
    assert build_wheel.elf_linkage(write_binary(tmp_path, content)) == linkage


@pytest.mark.parametrize(
    "content, message",
    [(b"#!/bin/sh\n", "not an ELF file"), (elf(machine=183), "ELF machine 183, not x86-64")],
    ids=["script", "aarch64"],
)
def test_what_is_not_an_x86_64_elf_is_refused(tmp_path, content, message):
    with pytest.raises(build_wheel.BuildError, match=message):
        build_wheel.elf_linkage(write_binary(tmp_path, content))


@pytest.mark.parametrize(
    "cargo, pep440", [("0.1.0", "0.1.0"), ("1.2.3-rc.1", "1.2.3rc1"), ("2.0.0-alpha.3", "2.0.0a3"), ("2.0.0-beta2", "2.0.0b2")]
)
def test_the_version_is_cargos_in_pep_440_spelling(tmp_path, cargo, pep440):
    assert build_wheel.cargo_version(cargo_toml(tmp_path, cargo)) == pep440


def test_a_version_without_a_pep_440_spelling_is_refused_naming_the_line(tmp_path):
    path = cargo_toml(tmp_path, "1.0.0-dev+abc")
    with pytest.raises(build_wheel.BuildError, match=r"Cargo.toml:6: version '1.0.0-dev\+abc' is not MAJOR"):
        build_wheel.cargo_version(path)


def read_record(wheel):
    rows = list(csv.reader(io.StringIO(wheel.read(next(n for n in wheel.namelist() if n.endswith("RECORD"))).decode())))
    return {name: (digest, size) for name, digest, size in rows}


def test_a_static_binary_makes_a_correct_manylinux_and_musllinux_wheel(tmp_path):
    path = build_wheel.build(write_binary(tmp_path, STATIC), str(tmp_path / "out"), cargo_toml(tmp_path, "0.3.1"))
    tags = "manylinux_2_17_x86_64.manylinux2014_x86_64.musllinux_1_1_x86_64"
    assert os.path.basename(path) == "alipay_cancel_kit-0.3.1-py3-none-%s.whl" % tags
    with zipfile.ZipFile(path) as wheel:
        names = wheel.namelist()
        record = read_record(wheel)
        # Every file but RECORD is listed once with its sha256 (urlsafe base64, no padding) and size.
        assert sorted(record) == sorted(names)
        assert record["alipay_cancel_kit-0.3.1.dist-info/RECORD"] == ("", "")
        for name in names:
            if name.endswith("/RECORD"):
                continue
            data = wheel.read(name)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert record[name] == ("sha256=" + digest, str(len(data))), name
        # The binary is a script of the .data folder, executable; nothing else is.
        script = "alipay_cancel_kit-0.3.1.data/scripts/alipay-cancel-kit"
        assert wheel.read(script) == STATIC
        modes = {info.filename: (info.external_attr >> 16) & 0o777 for info in wheel.infolist()}
        assert modes.pop(script) == 0o755
        assert set(modes.values()) == {0o644}
        assert {"alipay_cancel_kit/__init__.py", "alipay_cancel_kit/plugin.py", "alipay_cancel_kit/py.typed"} <= set(names)
        assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
        wheel_file = wheel.read("alipay_cancel_kit-0.3.1.dist-info/WHEEL").decode()
        assert "Root-Is-Purelib: false\n" in wheel_file
        assert [line for line in wheel_file.splitlines() if line.startswith("Tag:")] == [
            "Tag: py3-none-manylinux_2_17_x86_64",
            "Tag: py3-none-manylinux2014_x86_64",
            "Tag: py3-none-musllinux_1_1_x86_64",
        ]
        entry_points = wheel.read("alipay_cancel_kit-0.3.1.dist-info/entry_points.txt").decode()
        assert entry_points == "[pytest11]\nalipay_cancel_kit = alipay_cancel_kit.plugin\n"
        metadata = wheel.read("alipay_cancel_kit-0.3.1.dist-info/METADATA").decode()
        head = metadata.split("\n\n", 1)[0].splitlines()
        assert "Name: alipay-cancel-kit" in head
        assert "Version: 0.3.1" in head
        assert "Requires-Python: >=3.8" in head
        assert "pip install alipay-cancel-kit" in metadata.split("\n\n", 1)[1]


def test_a_dynamic_binary_is_refused_unless_allowed_and_then_tagged_for_this_machine_only(tmp_path):
    binary = write_binary(tmp_path, DYNAMIC)
    with pytest.raises(build_wheel.BuildError, match="is dynamically linked"):
        build_wheel.build(binary, str(tmp_path / "out"), cargo_toml(tmp_path, "0.1.0"))
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
    path = build_wheel.build(binary, str(tmp_path / "out"), cargo_toml(tmp_path, "0.1.0"), allow_dynamic=True)
    assert os.path.basename(path) == "alipay_cancel_kit-0.1.0-py3-none-linux_x86_64.whl"


def test_the_wheel_is_reproducible(tmp_path):
    binary = write_binary(tmp_path, STATIC_PIE)
    toml = cargo_toml(tmp_path, "0.1.0")
    first = pathlib.Path(build_wheel.build(binary, str(tmp_path / "a"), toml)).read_bytes()
    second = pathlib.Path(build_wheel.build(binary, str(tmp_path / "b"), toml)).read_bytes()
    assert first == second


def test_the_command_line_reports_errors_with_status_2(tmp_path, capsys):
    status = build_wheel.main([str(tmp_path / "missing"), str(tmp_path / "out")])
    assert status == 2
    assert "missing: not an executable file" in capsys.readouterr().err
