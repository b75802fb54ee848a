"""`liuhen completeness` as a separate process, as an administrator or a script runs it
(issue 8 item 7): JSON and CSV on stdout carry nothing else, the table carries no codes."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys

# Codes a clerk must never read in the table: kinds, stages, rule ids.
CODE = re.compile(r"\b(penalty|coercion|levy|fee|inspection|initiation|investigation|decision|"
                  r"service|hearing|case_file|archiving)\b|[a-z]+\.[a-z_]+")


def test_completeness_output_is_pure_json_csv_and_a_chinese_table(server_process):
    server = server_process(demo=True)  # the demo's data, made once per session
    piped = subprocess.run(
        f"{sys.executable} -m liuhen completeness --format json | {sys.executable} -m json.tool",
        shell=True, env=server.env, capture_output=True, text=True, timeout=300)
    assert piped.returncode == 0, piped.stderr
    body = json.loads(piped.stdout)
    assert body["cases"] >= 50 and len(body["items"]) == body["cases"]
    assert {item["kind_label"] for item in body["items"]} >= {"行政处罚", "行政强制", "行政检查"}

    as_csv = server.manage("completeness", "--format", "csv").stdout
    rows = list(csv.reader(io.StringIO(as_csv)))
    assert rows[0][:4] == ["案件编号", "执法单位", "执法行为", "环节"]
    assert len(rows) == body["cases"] + 1

    table = server.manage("completeness").stdout
    assert "共评估" in table and "行政处罚" in table
    assert not CODE.search(table), CODE.search(table).group(0)
