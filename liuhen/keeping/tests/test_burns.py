"""光盘刻录登记 and the disc read-back of the 四性检测 安全性 check (第十五条, DA/T 70, issue 11):
`liuhen archive_case --medium` records each image (待刻录) with its own digests and reads it
back into the security check; the records keeper registers the burn (label, medium, date,
operator, another person as checker, where kept); a later read-back passes on the image and
catches a flipped byte; the register is a page and a CSV export."""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from liuhen.audit.models import AuditEntry
from liuhen.core.errors import Conflict, Forbidden, InvalidInput
from liuhen.keeping import archive, burns, casefile
from liuhen.keeping.models import ArchivePackage, DiscBurn
from liuhen.packaging import SigningKey, SM2SigningKey
from liuhen.packaging.keys import sm2_key_path

pytestmark = pytest.mark.django_db


@pytest.fixture
def archived(people, filed_case, tmp_path):
    """The filed case bound, packaged and written to a CD image by the command."""
    keeper = people["keeper_a"].user
    casefile.bind(actor=keeper, case_file=casefile.assemble(actor=people["officer_a"].user,
                                                            case=filed_case))
    key = tmp_path / "bureau.pem"
    signer = SigningKey.load_or_create(key)
    SM2SigningKey.load_or_create(tmp_path / "signing-sm2.pem")  # signs beside it (第十五条)
    out = io.StringIO()
    call_command("archive_case", filed_case.number, "--as", keeper.username, "--key", str(key),
                 "--dest", str(tmp_path / "out"), "--medium", "cd", stdout=out)
    return ArchivePackage.objects.get(case=filed_case), signer


def _flip(path, offset_from_end=None):
    data = bytearray(path.read_bytes())
    # A byte in the payload region (the middle of the image holds the recordings).
    where = len(data) // 2 if offset_from_end is None else len(data) - offset_from_end
    data[where] ^= 0xFF
    path.chmod(0o644)
    path.write_bytes(bytes(data))


def test_command_records_images_and_reads_them_back_into_the_security_check(
    people, archived
):
    package, signer = archived
    (burn,) = DiscBurn.objects.filter(package=package)
    image = burn.image_path
    data = open(image, "rb").read()
    assert (burn.size, burn.sha256, burn.sm3) == (
        len(data), hashlib.sha256(data).hexdigest(), hashlib.new("sm3", data).hexdigest())
    assert burn.burned_on is None and burn.archive_number == package.case_file.archive_number
    security = package.checks["security"]
    assert security["disc"][0]["ok"] and security["disc"][0]["sha256"] == burn.sha256
    assert security["ok"] is True and package.preserved  # no ClamAV here: the disc decides
    assert AuditEntry.objects.filter(action="package.disc_checked", outcome="succeeded").exists()
    assert AuditEntry.objects.filter(action="burn.image_recorded").count() == 1
    text = "".join(p.extract_text() for p in __import__("pypdf").PdfReader(
        io.BytesIO(archive.report_pdf(package))).pages).replace(" ", "")
    assert "光盘映像" in text and "回读通过" in text

    # A flipped byte in the image: the security check's read-back fails, not preserved.
    from pathlib import Path

    _flip(Path(image))
    from liuhen.packaging.disc import DiscImage

    again = archive.disc_readback(
        actor=people["keeper_a"].user, package=package,
        images=[DiscImage(path=Path(image), volume=1, volumes=1, label=burn.volume_label,
                          medium="cd", size=burn.size, sha256=burn.sha256, sm3=burn.sm3,
                          files=())])
    assert again.checks["security"]["ok"] is False and not again.preserved
    assert "SHA-256" in again.checks["security"]["disc"][0]["detail"]


def test_register_a_burn_and_check_the_disc(people, archived, tmp_path):
    package, signer = archived
    keeper, other = people["keeper_a"].user, people["officer_a"].user
    burn = DiscBurn.objects.get(package=package)
    today = timezone.localdate()
    kwargs = {"disc_label": "J001-档案光盘-0001", "burned_on": today, "location": "档案室 3 号柜"}
    with pytest.raises(Forbidden):
        burns.register_burn(actor=other, burn=burn, checker=keeper, **kwargs)
    with pytest.raises(InvalidInput, match="另一人"):
        burns.register_burn(actor=keeper, burn=burn, checker=keeper, **kwargs)
    with pytest.raises(InvalidInput, match="晚于今天"):
        burns.register_burn(actor=keeper, burn=burn, checker=other,
                            **{**kwargs, "burned_on": today + dt.timedelta(days=1)})
    with pytest.raises(InvalidInput, match="格式"):
        burns.register_burn(actor=keeper, burn=burn, checker=other,
                            **{**kwargs, "burned_on": "昨天"})
    done = burns.register_burn(actor=keeper, burn=burn, checker=other, **kwargs)
    assert (done.disc_label, done.burned_on, done.operator, done.checker) == (
        "J001-档案光盘-0001", today, keeper, other)
    with pytest.raises(Conflict):
        burns.register_burn(actor=keeper, burn=done, checker=other, **kwargs)
    entry = AuditEntry.objects.get(action="burn.registered")
    assert entry.detail["sha256"] == burn.sha256 and entry.detail["location"] == "档案室 3 号柜"

    report = burns.check_disc(actor=keeper, burn=done, fingerprint=signer.fingerprint)
    done.refresh_from_db()
    assert report.ok and done.check_ok is True and "回读通过" in done.check_detail
    from pathlib import Path

    _flip(Path(done.image_path))
    report = burns.check_disc(actor=keeper, burn=done, fingerprint=signer.fingerprint)
    done.refresh_from_db()
    assert not report.ok and done.check_ok is False
    assert AuditEntry.objects.filter(action="burn.checked", outcome="failed").exists()


def test_a_package_not_preserved_cannot_be_registered_as_burnt(people, archived):
    package, _signer = archived
    ArchivePackage.objects.filter(pk=package.pk).update(preserved=False)
    burn = DiscBurn.objects.get(package=package)
    with pytest.raises(Conflict, match="四性检测"):
        burns.register_burn(actor=people["keeper_a"].user, burn=burn,
                            checker=people["officer_a"].user, disc_label="X",
                            burned_on=timezone.localdate(), location="柜")


def test_burn_register_page_register_check_and_export(client, people, archived):
    package, _signer = archived
    keeper, officer = people["keeper_a"].user, people["officer_a"].user
    burn = DiscBurn.objects.get(package=package)
    client.force_login(officer)
    assert client.get(reverse("keeping_burns")).status_code == 403
    client.force_login(keeper)
    page = client.get(reverse("keeping_burns"))
    assert page.status_code == 200 and "待刻录" in page.content.decode()
    assert burn.sha256 in page.content.decode()
    # Bad input is a message, never a 500.
    for bad in ({"burn": "x"}, {"burn": str(burn.pk), "checker": "nobody"},
                {"burn": str(burn.pk), "checker": officer.username, "burned_on": "2026-99-1",
                 "disc_label": "L", "location": "柜"}):
        assert client.post(reverse("keeping_burns"), bad).status_code in (400, 404)
    response = client.post(reverse("keeping_burns"), {
        "burn": burn.pk, "disc_label": "档案光盘-0001", "checker": officer.username,
        "burned_on": timezone.localdate().isoformat(), "location": "档案室 3 号柜"})
    assert response.status_code == 302
    burn.refresh_from_db()
    assert burn.disc_label == "档案光盘-0001" and burn.checker == officer
    response = client.post(reverse("keeping_burn_check", args=[burn.pk]))
    assert response.status_code == 302
    burn.refresh_from_db()
    assert burn.check_ok is True
    assert client.post(reverse("keeping_burn_check", args=[999999])).status_code == 404
    export = client.get(reverse("keeping_burns_export"))
    text = export.content.decode("utf-8-sig")
    assert export.status_code == 200 and text.startswith("档号,")
    assert "档案光盘-0001" in text and burn.sm3 in text and "通过" in text
    assert AuditEntry.objects.filter(action="burn.exported").exists()


def test_package_page_build_list_verify_download(client, people, filed_case, settings,
                                                 tmp_path):
    """档案包 page (issue 11 item 4): the records keeper builds a case's package with a CD
    image, sees the four checks, verifies it, downloads the reports and the image; others are
    refused; bad input is a message, not a 500."""
    keeper = people["keeper_a"].user
    casefile.bind(actor=keeper, case_file=casefile.assemble(actor=people["officer_a"].user,
                                                            case=filed_case))
    settings.ARCHIVE_DIR = tmp_path / "archive"
    settings.SIGNING_KEY_FILE = tmp_path / "keys" / "bureau.pem"
    url = reverse("keeping_packages")
    client.force_login(keeper)
    response = client.post(url, {"case_number": filed_case.number, "medium": "cd"})
    assert response.status_code == 409 and "签名密钥" in response.content.decode()
    signer = SigningKey.load_or_create(settings.SIGNING_KEY_FILE)
    # SM2 on (LIUHEN_SM2_SIGNING) and its key missing: nothing signed with one key fewer.
    response = client.post(url, {"case_number": filed_case.number, "medium": "cd"})
    assert response.status_code == 409 and "SM2 签名密钥" in response.content.decode()
    SM2SigningKey.load_or_create(sm2_key_path())
    for bad, status in (({"case_number": "没有这个"}, 404),
                        ({"case_number": filed_case.number, "medium": "tape"}, 400)):
        assert client.post(url, bad).status_code == status
    response = client.post(url, {"case_number": filed_case.number, "medium": "cd"})
    assert response.status_code == 302
    package = ArchivePackage.objects.get(case=filed_case)
    assert package.preserved and package.checks["security"]["disc"][0]["ok"]
    page = client.get(url).content.decode()
    assert package.external_id in page and "四性检测报告" in page and "待刻录" in page
    response = client.post(reverse("keeping_package_verify", args=[package.pk]), follow=True)
    assert "校验通过" in response.content.decode()
    pdf = client.get(reverse("keeping_package_report", args=[package.pk, "pdf"]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    data = client.get(reverse("keeping_package_report", args=[package.pk, "json"]))
    assert data.status_code == 200 and b'"preserved": true' in data.content
    assert client.get(reverse("keeping_package_report", args=[package.pk, "exe"])).status_code \
        == 404
    burn = DiscBurn.objects.get(package=package)
    image = client.get(reverse("keeping_burn_image", args=[burn.pk]))
    assert hashlib.sha256(b"".join(image.streaming_content)).hexdigest() == burn.sha256
    assert signer.fingerprint in open(package.path + "/manifest.json", encoding="utf-8").read()
    # A changed byte in the kept package: the verify button says so.
    victim = next((__import__("pathlib").Path(package.path) / "data" / "音像资料").iterdir())
    _flip(victim)
    response = client.post(reverse("keeping_package_verify", args=[package.pk]), follow=True)
    assert "校验未通过" in response.content.decode()
    assert AuditEntry.objects.filter(action="package.verified", outcome="failed").exists()
    client.force_login(people["officer_a"].user)
    assert client.get(url).status_code == 403
