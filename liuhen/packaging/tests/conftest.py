"""Fixtures of the packaging tests: real media made by PyAV and Pillow (under ``tmp_path``),
a signing key, a built package. No database: the library knows no models."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from liuhen.core.testing import TEST_NOW
from liuhen.evidence.tests import mediafactory
from liuhen.packaging import PackageBuilder, SigningKey, SM2SigningKey

TOOL_MISSING = "not installed (make test-system-deps installs it; required in CI)"


def need_tool(name: str):
    """Skip where a Debian tool is missing on a developer's machine; never in CI."""
    return pytest.mark.skipif(
        shutil.which(name) is None and not os.environ.get("CI"), reason=f"{name} {TOOL_MISSING}"
    )


@pytest.fixture
def signer() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture
def sm2_signer() -> SM2SigningKey:
    """An SM2 key made by the system's openssl (GB/T 32918), held in memory."""
    return SM2SigningKey.generate()


@pytest.fixture
def originals(tmp_path) -> dict[str, Path]:
    """Stored originals as the vault keeps them, by the name each gets in the package."""
    src = tmp_path / "originals"
    src.mkdir()
    captured = TEST_NOW - dt.timedelta(days=3)
    return {
        "录像/执法记录仪_0001.MP4": mediafactory.make_h264_mp4(
            src / "v1.mp4", creation_time=captured
        ),
        "录像/执法记录仪_0002.MP4": mediafactory.make_h264_mp4(
            src / "v2.mp4", seconds=1, creation_time=captured
        ),
        "录音/询问笔录录音.wav": mediafactory.make_wav(src / "a.wav"),
        "照片/现场照片 1.jpg": mediafactory.make_jpeg_with_exif(src / "p.jpg", taken_at=captured),
    }


def item_metadata(name: str) -> dict:
    """What a caller passes per item: capture time, device, officer, chain of custody."""
    captured = TEST_NOW - dt.timedelta(days=3)
    return {
        "captured_at": captured,
        "device": "DSJ-00017",
        "officer": {"name": "张三", "number": "44010012"},
        "original_name": name.rsplit("/", 1)[-1],
        "custody": [
            {"at": captured + dt.timedelta(hours=8), "actor": "张三", "action": "ingested"},
            {"at": TEST_NOW, "actor": "李四", "action": "packaged"},
        ],
    }


def build(dest: Path, signer: SigningKey, originals: dict[str, Path], **kwargs):
    with PackageBuilder(
        dest,
        title="冀人社监〔2026〕12号 行政诉讼证据包",
        organization="某市人力资源和社会保障局",
        external_id="ZJB-2026-0012",
        signer=signer,
        created_at=TEST_NOW,
        metadata={"case": "冀人社监〔2026〕12号", "court": "某市中级人民法院"},
        **kwargs,
    ) as builder:
        for name, path in originals.items():
            builder.add_file(name, path, metadata=item_metadata(name))
        builder.add_bytes("证据清单.txt", "证据清单\n1. 执法记录仪录像\n".encode())
        return builder.finish()


@pytest.fixture
def package(tmp_path, signer, originals):
    return build(tmp_path / "package", signer, originals)


@pytest.fixture
def sm2_package(tmp_path, signer, sm2_signer, originals):
    """The same package signed with Ed25519 and, beside it, SM2 (第十七条第三款)."""
    return build(tmp_path / "sm2-package", signer, originals, sm2_signer=sm2_signer)


def run_verifier(python: str | Path, package_dir: Path, *args: str, cwd: Path | None = None):
    """Run the package's own verify.py as a court clerk would: isolated (-I), nothing but the
    standard library of ``python``."""
    return subprocess.run(
        [str(python), "-I", str(package_dir / "verify.py"), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        cwd=cwd or package_dir,
    )


@pytest.fixture(scope="session")
def bare_python(tmp_path_factory) -> Path:
    """A virtual environment without pip or any site package: only the standard library."""
    venv = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    probe = subprocess.run(
        [
            str(python),
            "-I",
            "-c",
            "import importlib.util as u; print(u.find_spec('cryptography'),"
            " u.find_spec('django'), u.find_spec('liuhen'))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.split() == ["None", "None", "None"], probe.stdout
    return python
