"""Schemathesis against the live server (issue 16, how it must be shown): every operation of the
served OpenAPI document is called with generated input, valid and invalid, by a signed-in client
(an API token), and every answer must be one the document declares for that operation, with a
body that matches the declared schema, and never a server error.

The run is bounded and reproducible: a fixed number of examples per operation, Hypothesis
derandomised (``--generation-deterministic``) with a fixed seed and no example database, so CI
sends the same requests each time and a failure can be replayed from its curl line. Schemathesis
runs as its own process (its CLI, the way a bureau's integrator would point it at a server), on
the same `liuhen serve` the other server tests start.

The caller is the unit head of the bureau's top unit (scope: every unit, 第三条), so the
operations of cases, patrols, parties, recordings, devices, approvals and disclosure get past
the permission check into their validation; objects exist for small ids (a case with a party, a
device, a patrol, a recording), so operations on an object reach its rules, not only the 404.
What the role may not do answers 403, which is documented and checked like any other answer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import requests

from conftest import ROOT

# Objects for the generated ids to meet, made through the services as the pages make them.
SETUP = """
import shutil, tempfile
from pathlib import Path
from liuhen.access.choices import Role
from liuhen.access.services import create_token
from liuhen.cases import services as cases
from liuhen.cases.tests.factories import make_case, make_party
from liuhen.devices.services import register_device
from liuhen.evidence.services import ingest_recording
from liuhen.evidence.tests import mediafactory
from liuhen.org.choices import UnitKind
from liuhen.org.tests.factories import OfficerFactory, UnitFactory
from django.utils import timezone

bureau = UnitFactory(name="某市人力资源和社会保障局", kind=UnitKind.BUREAU,
                     case_number_prefix="冀人社监")
team = UnitFactory(name="监察一大队", parent=bureau, kind=UnitKind.TEAM)
head = OfficerFactory(unit=bureau, role=Role.UNIT_HEAD, name="张局")
admin = OfficerFactory(unit=bureau, role=Role.ADMIN, name="管理员")
officers = [OfficerFactory(unit=team, name=n) for n in ("李明", "王芳")]
party = make_party(actor=officers[0].user, unit=team)
make_case(actor=officers[0].user, unit=team, officers=officers, parties=[party])
cases.create_patrol(actor=officers[0].user, unit=team, date=timezone.localdate(), area="开发区",
                    officer_ids=[o.pk for o in officers])
register_device(actor=admin.user, number="DSJ001", kind="body_camera", unit=team,
                officer=officers[0])
# A real recording (PyAV media through the ingest), so its operations reach their rules.
folder = Path(tempfile.mkdtemp())
clip = mediafactory.make_h264_mp4(folder / "DSJ001_0001.MP4", seconds=1,
                                  creation_time=timezone.now().replace(microsecond=0))
ingest_recording(source_path=clip, original_name=clip.name, actor=officers[0].user,
                 channel="web")
shutil.rmtree(folder)
# The run may revoke a token (DELETE /api/tokens/{id}): it gets this spare one, not its own.
spare, _ = create_token(user=head.user, name="备用")
print(spare.pk, create_token(user=head.user, name="接口测试")[1])
"""

# Requests per operation: Schemathesis's coverage phase (boundary values, wrong types, missing
# fields, each once) and this many generated examples on top. Sized to keep the run within a
# couple of minutes on two busy cores.
MAX_EXAMPLES = int(os.environ.get("LIUHEN_SCHEMATHESIS_EXAMPLES", "12"))
SEED = 16  # issue 16

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)

CONFIG = """
[[operations]]
include-name = "DELETE /api/tokens/{{token_id}}"
parameters = {{ token_id = {spare} }}
"""


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_schemathesis_finds_no_server_error_and_no_undocumented_answer(server_process, tmp_path):
    server = server_process()
    spare, token = server.manage("shell", "-c", SETUP).stdout.split()[-2:]
    server.start()
    # What a longer run (60 examples per operation) found: a query longer than gunicorn's limit
    # on the request line (4094 bytes) was answered with gunicorn's HTML page, a status and a
    # body the document did not declare. Now the API's JSON error, declared on every operation.
    auth = {"Authorization": f"Bearer {token}"}
    long = requests.get(
        f"{server.url}/api/rules/report", params={"unit": "1" * 5000}, headers=auth, timeout=60
    )
    assert long.status_code == 414 and long.headers["Content-Type"] == "application/json"
    assert long.json()["code"] == "uri_too_long" and long.json()["message"]
    document = requests.get(f"{server.url}/api/openapi.json", timeout=60).json()
    assert "414" in document["paths"]["/api/rules/report"]["get"]["responses"]
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG.format(spare=spare), encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(config),
        "--no-color",
        "run",
        f"{server.url}/api/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        ",".join(CHECKS),
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--generation-deterministic",  # no example database either
        # One worker: Hypothesis's lambda-source cache is not thread-safe (with two, the
        # coverage phase of an operation once died of "AST constructor recursion depth").
        "--workers",
        "1",
        "--request-timeout",
        "60",
        "--continue-on-failure",
        "--report",
        "json",
        "--report-json-path",
        str(tmp_path / "report.json"),
    ]
    # Its own working folder: nothing of Schemathesis's is written into the repository.
    run = subprocess.run(
        command,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=540,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-20000:]
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    operations = report["operations"]
    # Every operation of the document was tested, none errored (a crash of the generator or a
    # connection the server dropped would count there), and the run was not a wall of 401s.
    assert operations["tested"] == operations["total"] > 80, report
    assert operations["errored"] == 0 and not report["errors"], report
    assert not report["failures"], report
    # The token worked: only the few operations a unit head may not do (the legal office's
    # audit check and detectors, the records keeper's disposal list) answered nothing but 403.
    assert len(report["warnings"]["missing_auth"]) <= 5, report
    # Django logs every 500 it answers as "Internal Server Error: <path>".
    assert "Internal Server Error" not in (server.data_dir / "server.log").read_text(
        errors="replace"
    )
