"""Benchmark: ``liuhen verify --all`` throughput against ``openssl dgst -sm3`` on the same files.

    python bench/bench_verify.py                      # 1 GiB in 16 originals
    BENCH_VERIFY_BYTES=268435456 python bench/bench_verify.py --files 8

Stores real MP4 originals (padded to the requested total) through ``liuhen ingest`` on a fresh
vault, then times, in the same run: ``openssl dgst -sm3`` over the stored objects (the
baseline: one digest, C only) and ``liuhen verify --all`` (re-reads every original, recomputes
SHA-256 and SM3, records a fixity check per object, looks for orphans). The baseline runs
before and after verify and the faster of the two is used, so a cold page cache does not
favour either. Target ratio (baseline time / verify time) >= 0.8.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _vault import ROOT, Server, mib_per_s  # noqa: E402

sys.path.insert(0, str(ROOT))
from bench_tus_upload import parse_size  # noqa: E402

from liuhen.evidence.tests.mediafactory import make_large_file  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bytes", default=os.environ.get("BENCH_VERIFY_BYTES", "1G"))
    parser.add_argument("--files", type=int, default=16)
    args = parser.parse_args()
    total = parse_size(args.bytes)
    each = total // args.files
    work = Path(tempfile.mkdtemp(prefix="liuhen-bench-verify-"))
    server = Server()
    try:
        dump = work / "dump"
        dump.mkdir()
        for i in range(args.files):
            make_large_file(dump / f"DSJ_{i:03d}.MP4", each + i * 4096)
        server.manage("ingest", str(dump), "--device", server.people["device"], "--user",
                      server.people["username"], "--receipt-dir", str(work))
        shutil.rmtree(dump)
        objects = sorted(p for p in (server.dir / "var" / "evidence").rglob("*")
                         if p.is_file() and "sha256" in p.parts)
        size = sum(p.stat().st_size for p in objects)
        assert len(objects) == args.files, (len(objects), args.files)

        def baseline() -> float:
            t0 = time.perf_counter()
            subprocess.run(["openssl", "dgst", "-sm3", *map(str, objects)], check=True,
                           stdout=subprocess.DEVNULL)
            return time.perf_counter() - t0

        first = baseline()
        t0 = time.perf_counter()
        out = server.manage("verify", "--all")
        verify = time.perf_counter() - t0
        base = min(first, baseline())
        # The command also reports its own reading time (without Python/Django start-up).
        match = re.search(r"用时 ([0-9.]+) 秒", out)
        inner = float(match.group(1)) if match else None
        result = {
            "files": len(objects), "bytes": size, "verify_s": round(verify, 2),
            "verify_mib_s": round(mib_per_s(size, verify), 1), "openssl_sm3_s": round(base, 2),
            "openssl_mib_s": round(mib_per_s(size, base), 1), "ratio": round(base / verify, 2),
            "verify_reading_s": inner,
            "ratio_reading_only": round(base / inner, 2) if inner else None,
        }
        print(f"{len(objects)} originals, {size / (1 << 20):.0f} MiB: liuhen verify --all "
              f"{verify:.2f} s ({result['verify_mib_s']} MiB/s, SHA-256 + SM3, checks recorded);"
              f" openssl dgst -sm3 {base:.2f} s ({result['openssl_mib_s']} MiB/s); ratio "
              f"{result['ratio']} (target >= 0.8)")
        print("verify said: " + " ".join(out.strip().splitlines()[-2:]))
        if inner:
            print(f"without start-up (verify's own reading time {inner:.2f} s): ratio "
                  f"{result['ratio_reading_only']}")
        print(json.dumps(result))
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
