"""Disc images for long-term keeping (第十五条): ISO 9660 with Joliet and Rock Ridge, Chinese
names intact for every reader, split across volumes that each verify on their own, and a
read-back check that catches one flipped byte (DA/T 70 安全性)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import subprocess

import pycdlib
import pytest

from liuhen.packaging import (
    MediumTooSmall,
    PackageInvalid,
    SM2SigningKey,
    read_back,
    verifier,
    write_disc_images,
)
from liuhen.packaging.disc import MEDIA
from liuhen.packaging.tests.conftest import need_tool, run_verifier

CHINESE = "data/录像/执法记录仪_0001.MP4"


def _extract(image, folder):
    """Copy every file off an image by its Rock Ridge name (what a mounted disc shows)."""
    iso = pycdlib.PyCdlib()
    iso.open(str(image))
    try:
        for root, _dirs, files in iso.walk(rr_path="/"):
            for name in files:
                rel = f"{root.rstrip('/')}/{name}".lstrip("/")
                (folder / rel).parent.mkdir(parents=True, exist_ok=True)
                with open(folder / rel, "wb") as out:
                    iso.get_file_from_iso_fp(out, rr_path="/" + rel)
    finally:
        iso.close()


@pytest.fixture
def image(package, signer, tmp_path):
    (image,) = write_disc_images(package.path, tmp_path / "discs", signer=signer, medium_name="cd")
    return image


def test_one_image_when_the_package_fits(image, package):
    assert image.volume == image.volumes == 1
    assert image.medium == "cd" and image.size <= MEDIA["cd"].capacity
    assert set(image.files) == {f.path for f in package.files}
    data = image.path.read_bytes()
    assert image.sha256 == hashlib.sha256(data).hexdigest()
    assert image.sm3 == hashlib.new("sm3", data).hexdigest()
    assert image.size == len(data)


def test_pycdlib_reads_back_chinese_names_in_rock_ridge_and_joliet(image, package):
    iso = pycdlib.PyCdlib()
    iso.open(str(image.path))
    try:
        for tree in ("rr_path", "joliet_path"):
            out = io.BytesIO()
            iso.get_file_from_iso_fp(out, **{tree: "/" + CHINESE})
            assert out.getvalue() == (package.path / CHINESE).read_bytes()
        names = {
            f"{root.rstrip('/')}/{name}".lstrip("/")
            for root, _d, files in iso.walk(joliet_path="/")
            for name in files
        }
        assert {f.path for f in package.files} <= names
        assert iso.pvd.volume_identifier.strip() == b"ZJB_2026_0012"
    finally:
        iso.close()


@need_tool("isoinfo")
def test_isoinfo_lists_rock_ridge_and_joliet_trees(image):
    rock_ridge = subprocess.run(
        ["isoinfo", "-R", "-l", "-i", str(image.path)], capture_output=True, text=True, check=True
    ).stdout
    assert "执法记录仪_0001.MP4" in rock_ridge and "现场照片 1.jpg" in rock_ridge
    joliet = subprocess.run(
        ["isoinfo", "-J", "-l", "-i", str(image.path)], capture_output=True, text=True, check=True
    ).stdout
    # Debian's isoinfo 1.1.11 converts Joliet names to an 8-bit charset only (no UTF-8 in its
    # -j list) and prints each CJK character as '_': the Joliet record holds five characters
    # before "_0001.MP4", as it must. bsdtar below reads the same names in full.
    assert "______0001.MP4" in joliet
    assert "verify.py" in joliet and "manifest.json" in joliet


@need_tool("bsdtar")
def test_bsdtar_reads_the_joliet_names_intact_and_the_extracted_disc_verifies(
    image, tmp_path, bare_python
):
    listing = subprocess.run(
        ["bsdtar", "--options", "iso9660:!rockridge", "-tf", str(image.path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    assert CHINESE in listing and "data/照片/现场照片 1.jpg" in listing
    for options, folder in ((["--options", "iso9660:!rockridge"], "joliet"), ([], "rr")):
        target = tmp_path / folder
        target.mkdir()
        subprocess.run(["bsdtar", *options, "-xf", str(image.path), "-C", str(target)], check=True)
        done = run_verifier(bare_python, target)
        assert done.returncode == 0, done.stdout
        assert "Joliet" not in done.stdout or "结论：通过" in done.stdout


def test_read_back_of_the_image_passes_and_reports_its_digests(image, package, signer):
    report = read_back(image.path, expected=image, fingerprint=signer.fingerprint)
    assert report.ok, report.render()
    assert report.media[str(image.path)] == {
        "size": image.size,
        "sha256": image.sha256,
        "sm3": image.sm3,
    }
    assert report.files_checked == len(package.files)
    assert "image.names" in {f.code for f in report.findings}


def test_a_flipped_byte_in_the_image_is_caught_by_read_back(image, package):
    data = bytearray(image.path.read_bytes())
    offset = data.find((package.path / CHINESE).read_bytes()[4096:4160])
    assert offset > 0
    data[offset + 10] ^= 0x01
    image.path.write_bytes(bytes(data))
    report = read_back(image.path, expected=image)
    codes = {(f.code, f.path) for f in report.failures}
    assert ("file.sha256", CHINESE) in codes and ("file.sm3", CHINESE) in codes
    assert ("image.sha256", None) in codes and ("image.sm3", None) in codes
    assert "内容被改动" in report.render()


def test_a_flipped_byte_outside_any_file_is_caught_by_the_image_digest(image):
    data = bytearray(image.path.read_bytes())
    data[16 * 2048 + 1000] ^= 0x01  # inside the primary volume descriptor's reserved bytes
    image.path.write_bytes(bytes(data))
    codes = {f.code for f in read_back(image.path, expected=image).failures}
    assert {"image.sha256", "image.sm3"} <= codes


def test_split_across_volumes_each_verifies_alone_and_all_together(
    package, signer, tmp_path, bare_python
):
    capacity = 400 * 1024
    images = write_disc_images(
        package.path, tmp_path / "discs", signer=signer, medium_name=capacity
    )
    assert len(images) >= 2
    assert all(i.size <= capacity and i.volumes == len(images) for i in images)
    held = [p for i in images for p in i.files]
    assert sorted(held) == sorted(f.path for f in package.files)  # each file on one volume
    folders = []
    for i in images:
        alone = read_back(i.path, expected=i, fingerprint=signer.fingerprint)
        assert alone.ok, alone.render()
        assert "set.partial" in {f.code for f in alone.findings}
        folder = tmp_path / f"vol{i.volume}"
        folder.mkdir()
        _extract(i.path, folder)
        index = json.loads((folder / "volume.json").read_text("utf-8"))
        assert index["volume"] == i.volume and index["volumes"] == len(images)
        assert set(index["files"]) == set(held)  # every volume says where everything is
        assert f"Bag-Count: {i.volume} of {len(images)}" in (folder / "bag-info.txt").read_text()
        folders.append(folder)
    together = read_back([i.path for i in images], fingerprint=signer.fingerprint)
    assert together.ok and "set.complete" in {f.code for f in together.findings}
    done = run_verifier(bare_python, folders[0], *map(str, folders))
    assert done.returncode == 0, done.stdout
    assert f"全部 {len(images)} 卷齐全" in done.stdout
    # a file moved from one volume to another is caught, index signed or not
    moved = next(iter((folders[0] / "data").rglob("*.*")))
    target = folders[1] / moved.relative_to(folders[0])
    target.parent.mkdir(parents=True, exist_ok=True)
    moved.rename(target)
    codes = {f.code for f in verifier.verify(folders).failures}
    assert {"file.missing", "file.wrong_volume"} <= codes


def test_an_edited_volume_index_is_caught(package, signer, tmp_path):
    images = write_disc_images(
        package.path, tmp_path / "discs", signer=signer, medium_name=400 * 1024
    )
    folder = tmp_path / "vol"
    _extract(images[0].path, folder)
    index = json.loads((folder / "volume.json").read_text("utf-8"))
    first = images[0].files[0]
    index["files"][first] = 2  # claim the file lives elsewhere, then remove it
    (folder / "volume.json").write_text(json.dumps(index, ensure_ascii=False), "utf-8")
    (folder / first).unlink()
    codes = {f.code for f in verifier.verify(folder).failures}
    assert "volume.signature" in codes


def test_a_file_larger_than_the_medium_is_refused(signer, tmp_path):
    from liuhen.packaging import PackageBuilder

    with PackageBuilder(
        tmp_path / "p", title="t", organization="o", external_id="x", signer=signer
    ) as builder:
        builder.add_bytes("大文件.bin", b"\0" * 1_000_000)
        package = builder.finish()
    with pytest.raises(MediumTooSmall, match="大文件.bin.*放不进"):
        write_disc_images(package.path, tmp_path / "d1", signer=signer, medium_name=600_000)
    with pytest.raises(MediumTooSmall, match="每卷都要带"):
        write_disc_images(package.path, tmp_path / "d2", signer=signer, medium_name=150_000)
    assert not list((tmp_path / "d1").glob("*.iso"))


def test_discs_are_only_written_for_the_key_that_signed_the_package(package, tmp_path):
    from liuhen.packaging import SigningKey

    with pytest.raises(PackageInvalid, match="签名"):
        write_disc_images(package.path, tmp_path / "discs", signer=SigningKey.generate())


def test_a_file_that_is_no_disc_image_is_refused_plainly(tmp_path):
    from liuhen.packaging import PackagingError

    garbage = tmp_path / "not.iso"
    garbage.write_bytes(b"\0" * 100_000)
    with pytest.raises(PackagingError, match="无法读取光盘映像"):
        read_back(garbage)


def test_many_long_chinese_names_in_nested_folders_split_within_the_medium(signer, tmp_path):
    from liuhen.packaging import PackageBuilder

    characters = "执法记录仪现场询问笔录照片录像音频劳动保障监察支队"
    with PackageBuilder(
        tmp_path / "p",
        title="t",
        organization="o",
        external_id="S-1",
        signer=signer,
        fsync=False,
    ) as builder:
        for i in range(120):
            name = "".join(characters[(i * 7 + k) % len(characters)] for k in range(16))
            builder.add_bytes(
                f"录像目录{i % 5}/子目录{i % 3}/{name}{i:04d}.MP4", bytes([i]) * (i * 700)
            )
        package = builder.finish()
    capacity = 2_500_000
    images = write_disc_images(
        package.path, tmp_path / "discs", signer=signer, medium_name=capacity, fsync=False
    )
    assert len(images) >= 3
    assert all(i.size <= capacity for i in images)
    report = read_back([i.path for i in images])
    assert report.ok, report.render()
    assert report.files_checked == 120


def test_every_byte_is_hashed_once_while_writing_and_the_image_is_not_read_again(
    package, signer, tmp_path, monkeypatch
):
    """The image's SHA-256 and SM3 and every payload file's SHA-256 come from the write itself
    (HashingWriter, the files cut out by their extents), so the check right after writing
    parses the image but never reads it through a second time (issue 11's packaging bench);
    the digests equal a fresh hash of the file and of each file on it."""
    from liuhen.packaging import readback

    seen = []
    real = readback.HashingWriter.file_digests

    def record(self):
        found = real(self)
        seen.append(found)
        return found

    monkeypatch.setattr(readback.HashingWriter, "file_digests", record)
    scans = []
    real_scan = readback.IsoSource.scan

    def scan(self, **kwargs):
        scans.append(kwargs)
        return real_scan(self, **kwargs)

    monkeypatch.setattr(readback.IsoSource, "scan", scan)
    (image,) = write_disc_images(package.path, tmp_path / "d", signer=signer, medium_name="cd")
    assert scans == []  # no second pass over the image
    data = image.path.read_bytes()
    assert (image.sha256, image.sm3, image.size) == (
        hashlib.sha256(data).hexdigest(),
        hashlib.new("sm3", data).hexdigest(),
        len(data),
    )
    assert seen and seen[0] is not None, "the writer fell back to reading the image back"
    by_path = {f.path: f for f in package.files}
    assert set(seen[0]) == set(by_path)
    for path, (size, sha256, sm3) in seen[0].items():
        assert (size, sha256, sm3) == (by_path[path].size, by_path[path].sha256, None)
    # A full read-back later (the 安全性 check, a kept disc) finds the same.
    report = read_back(image.path, expected=image, fingerprint=signer.fingerprint)
    assert report.ok, report.render()


def test_a_payload_file_changed_before_the_disc_is_written_is_caught(package, signer, tmp_path):
    """The bag's copy altered after the package was built (same size): the bytes written at
    its extents no longer have the manifest's SHA-256, and no image is accepted."""
    target = package.path / CHINESE
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.chmod(0o644)
    target.write_bytes(bytes(data))
    with pytest.raises(PackageInvalid) as caught:
        write_disc_images(package.path, tmp_path / "d", signer=signer, medium_name="cd")
    assert "file.sha256" in caught.value.detail and CHINESE in caught.value.detail


def test_digests_hashed_while_writing_count_only_at_the_extents_they_were_hashed_at(
    image, package, signer
):
    """read_back with ``written_files``: a file's SHA-256 from writing is used only where its
    extents on the parsed image are the ones hashed; elsewhere the file is read from the image."""
    from liuhen.packaging.readback import IsoSource

    written = {"sha256": image.sha256, "sm3": image.sm3, "size": image.size}
    with IsoSource(image.path) as source:
        extents = source.extents(CHINESE)
    size = next(f.size for f in package.files if f.path == CHINESE)
    wrong = (size, "0" * 64, None)
    # At the right extents a wrong digest is believed, and fails the check.
    report = read_back(
        image.path,
        fingerprint=signer.fingerprint,
        sm3="skip",
        written=written,
        written_files={CHINESE: (extents, wrong)},
    )
    assert "file.sha256" in {f.code for f in report.failures}
    # At other extents it is not: the file is read from the image, and passes.
    moved = [(start + 2048, length) for start, length in extents]
    report = read_back(
        image.path,
        fingerprint=signer.fingerprint,
        sm3="skip",
        written=written,
        written_files={CHINESE: (moved, wrong)},
    )
    assert report.ok, report.render()
    # An image whose size is not the one written fails.
    report = read_back(
        image.path,
        fingerprint=signer.fingerprint,
        sm3="skip",
        written={**written, "size": image.size + 2048},
        written_files={},
    )
    assert "image.readback" in {f.code for f in report.failures}


def test_a_read_back_that_differs_from_the_written_digest_fails(image, signer):
    written = {"sha256": "0" * 64, "sm3": image.sm3, "size": image.size}
    report = read_back(image.path, fingerprint=signer.fingerprint, sm3="skip", written=written)
    assert not report.ok
    assert "image.readback" in {f.code for f in report.failures}
    good = {"sha256": image.sha256, "sm3": image.sm3, "size": image.size}
    report = read_back(image.path, fingerprint=signer.fingerprint, sm3="skip", written=good)
    assert report.ok and report.media[str(image.path)]["sm3"] == image.sm3


def test_a_package_signed_with_sm2_too_keeps_both_signatures_on_disc(
    sm2_package, signer, sm2_signer, tmp_path
):
    """The disc carries manifest.sm2.sig and public-key-sm2.pem: the SM2 signature still
    verifies from the image (第十五条, GB/T 32918)."""
    with pytest.raises(PackageInvalid, match="SM2"):  # the volume index needs the SM2 key
        write_disc_images(sm2_package.path, tmp_path / "none", signer=signer, medium_name="cd")
    with pytest.raises(PackageInvalid, match="SM2 签名与给出的 SM2 密钥不符"):
        write_disc_images(sm2_package.path, tmp_path / "other", signer=signer,
                          sm2_signer=SM2SigningKey.generate(), medium_name="cd")
    (image,) = write_disc_images(
        sm2_package.path, tmp_path / "discs", signer=signer, sm2_signer=sm2_signer,
        medium_name="cd"
    )
    report = read_back(image.path, expected=image, fingerprint=signer.fingerprint,
                       sm2_fingerprint=sm2_signer.fingerprint)
    assert report.ok, report.render()
    assert report.sm2_fingerprint == sm2_signer.fingerprint and report.sm2_fingerprint_trusted
    assert "sm2.signature.valid" in {f.code for f in report.findings}


def test_the_volume_index_of_an_sm2_package_is_signed_with_sm2_too(
    sm2_package, signer, sm2_signer, tmp_path
):
    """第十五条 discs of a package signed with SM2: volume.json carries an SM2 signature
    (volume.sm2.sig) beside the Ed25519 one; a swapped or missing one is named, even when the
    Ed25519 signature of the index still holds."""
    (image,) = write_disc_images(
        sm2_package.path, tmp_path / "discs", signer=signer, sm2_signer=sm2_signer,
        medium_name="cd"
    )
    folder = tmp_path / "vol"
    _extract(image.path, folder)
    assert verifier.verify(folder).ok
    index = (folder / "volume.json").read_bytes()
    assert sm2_signer.verify(base64.b64decode((folder / "volume.sm2.sig").read_bytes()), index)
    (folder / "volume.sm2.sig").write_bytes(
        base64.b64encode(SM2SigningKey.generate().sign(index)) + b"\n")
    codes = {f.code for f in verifier.verify(folder).failures}
    assert "sm2.volume.signature" in codes and "volume.signature" not in codes
    (folder / "volume.sm2.sig").unlink()
    codes = {f.code for f in verifier.verify(folder).failures}
    assert "sm2.volume.missing" in codes
