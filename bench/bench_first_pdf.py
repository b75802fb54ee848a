"""Benchmark: the first PDF after `liuhen serve` starts (issue 13 item 6, target < 3 s).

    python bench/bench_first_pdf.py                 # 2 starts with the warm-up, 2 without
    python bench/bench_first_pdf.py --starts 3

What a clerk meets after a restart, without the install of bench_first_start.py: one data folder
is migrated and filled by ``liuhen demo`` once; then ``liuhen serve`` starts on it (its defaults:
gunicorn with 2 web workers, the job worker, the scheduler), and as soon as ``/login/`` answers
200 the demo's legal affairs office (``legal1``) logs in and downloads the inspection ledger as
PDF (``/supervision/ledger.pdf``, rendered on request); the time from that request to its last
byte is printed. The server is stopped and started again for each measurement, alternately with
the warm-up (``liuhen serve`` renders one PDF before its workers fork) and without it
(``LIUHEN_WARM_PDF_FONTS=0``: each worker loads WeasyPrint, Pango and the fonts on its first
PDF), so both meet the same load. Also printed: the seconds from the start to the first 200 on
``/login/`` (the warm-up happens before the server listens) and a second PDF right after the
first (what a PDF costs once everything is loaded). Load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _deploy as d  # noqa: E402
from bench_first_start import (  # noqa: E402
    PDF_TARGET_S,
    PDF_URL,
    PDF_USER,
    demo_password,
    first_pdf,
    free_port,
    login_ok,
)

VARIANTS = (("warm-up", {}), ("no warm-up", {"LIUHEN_WARM_PDF_FONTS": "0"}))


def one_start(deployment: d.Deployment, extra_env: dict, password: str) -> dict:
    port = free_port()
    env = {**deployment.env, **extra_env}
    log = open(deployment.log_path, "ab")  # noqa: SIM115 - closed below
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "liuhen", "serve", "--bind", f"127.0.0.1:{port}"],
        env=env,
        cwd=d.ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        while not login_ok(port):
            if proc.poll() is not None or time.perf_counter() - started > 180:
                raise RuntimeError(
                    f"liuhen serve did not answer:\n{deployment.log_path.read_text()[-3000:]}"
                )
            time.sleep(0.1)
        up = time.perf_counter() - started
        first = first_pdf(port, password)
        second = first_pdf(port, password)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
    return {"up_s": round(up, 2), "first_pdf_s": round(first, 2), "second_pdf_s": round(second, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=2, help="starts per variant (2)")
    args = parser.parse_args()
    facts = d.header("first PDF after liuhen serve starts (demo data)")
    deployment = d.Deployment()
    results: dict[str, list[dict]] = {name: [] for name, _ in VARIANTS}
    try:
        t0 = time.perf_counter()
        deployment.manage("migrate", "-v0")
        deployment.manage("demo")
        print(f"   migrate + demo: {time.perf_counter() - t0:.1f} s (not measured)", flush=True)
        password = demo_password(d.ROOT)
        for i in range(args.starts):
            for name, extra in VARIANTS:
                r = one_start(deployment, extra, password)
                results[name].append(r)
                print(
                    f"   start {i + 1} {name:<11} /login/ after {r['up_s']:5.2f} s, first PDF "
                    f"{r['first_pdf_s']:5.2f} s, second {r['second_pdf_s']:5.2f} s  "
                    f"(load {d.loadavg()})",
                    flush=True,
                )
        for name, _ in VARIANTS:
            firsts = [r["first_pdf_s"] for r in results[name]]
            verdict = "met" if max(firsts) < PDF_TARGET_S else "MISSED"
            print(
                f"   {name:<11} first PDF ({PDF_URL} as {PDF_USER}): median "
                f"{statistics.median(firsts):.2f} s, worst {max(firsts):.2f} s "
                f"(target < {PDF_TARGET_S:.0f} s: {verdict})",
                flush=True,
            )
    finally:
        deployment.cleanup()
        d.footer(facts)
    print(json.dumps({**facts, **results}))


if __name__ == "__main__":
    main()
