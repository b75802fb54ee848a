"""Benchmark: packaging originals into BagIt + ISO, against ``cp`` + ``sha256sum`` of the same files.

    flock /work/bench.lock .venv/bin/python bench/bench_packaging.py --gb 1     # while developing
    .venv/bin/python bench/bench_packaging.py                                  # 10 GB (and 2.5 GB)

For each of two sizes (``--gb`` and a quarter of it, so that peak memory can be compared as the
size grows) a fresh child process, in the same run:

* baseline: ``cp -r`` of the originals into a new folder, then ``sha256sum`` of the copies, run
  before and after each of ours; the faster of the two counts, so a cold page cache favours
  neither;
* ours, with ``fsync=False`` against that baseline, and with the default ``fsync=True`` (every
  file on disk before the package exists) against ``cp`` + ``sync`` + ``sha256sum``:
  ``PackageBuilder`` (each original read once, written into the bag while its SHA-256 is
  computed and compared with the recorded one; the recorded SM3 is reused, as for a stored
  recording whose digests were fixed at upload; ``bagit`` checks structure and completeness,
  the verifier the manifests) and ``write_disc_images`` (the ISO written from the bag while
  its own SHA-256 and SM3 and every file's SHA-256, cut out by its extents, are computed: each
  byte of the image hashed once on its way, the image then parsed again, not read through a
  second time, and checked by the verifier). The recorded digests are computed before the
  timing starts: in Liuhen they were computed at upload;
* the SM3 floor: ``openssl dgst -sm3`` over the originals (one SM3 stream, C only). Packaging
  must compute SM3 at least once per byte (the image, for the burn register), so no
  implementation can beat that figure.

It prints wall time, CPU time (this process and its children), peak RSS of the packaging
process, the load average, and the ratio baseline / ours (target >= 0.5), by wall time and by
CPU time: on a loaded machine (helpers sharing two cores) wall figures drift with the load,
CPU seconds much less, so the CPU ratio is the steadier reading there; at idle the wall ratio is
the one the target is about. ``--profile`` prints, for the smaller size, where the packaging's
CPU time goes (cProfile, this process only; the baselines are not profiled; that size's
``fsync=False`` figures then include cProfile's overhead).

The originals are real MP4 files padded to size (``mediafactory.make_large_file``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GIB = 1 << 30


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _timed(func):
    wall, cpu = time.perf_counter(), _cpu()
    result = func()
    return result, time.perf_counter() - wall, _cpu() - cpu


def make_originals(folder: Path, total: int, files: int) -> list[Path]:
    from liuhen.evidence.tests.mediafactory import make_large_file

    folder.mkdir(parents=True)
    each = total // files
    return [
        make_large_file(folder / f"执法记录仪_{i:03d}.MP4", each + i * 4096) for i in range(files)
    ]


def baseline(originals: list[Path], work: Path, *, durable: bool = False) -> tuple[float, float]:
    """``cp -r`` then ``sha256sum`` of the copies; ``durable``: ``sync`` the copies in between
    (coreutils fsyncs each file named), as the builder's default does."""
    target = work / "cp"

    def run() -> None:
        subprocess.run(["cp", "-r", str(originals[0].parent), str(target)], check=True)
        copies = sorted(map(str, target.iterdir()))
        if durable:
            subprocess.run(["sync", *copies], check=True)
        subprocess.run(["sha256sum", *copies], check=True, stdout=subprocess.DEVNULL)

    _none, wall, cpu = _timed(run)
    shutil.rmtree(target)
    return wall, cpu


def sm3_floor(originals: list[Path]) -> float:
    _none, wall, _cpu_s = _timed(
        lambda: subprocess.run(
            ["openssl", "dgst", "-sm3", *map(str, originals)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    )
    return wall


def package(
    originals: list[Path], work: Path, medium: str | int, *, fsync: bool, recorded: dict
) -> dict:
    from liuhen.packaging import PackageBuilder, SigningKey, write_disc_images

    key = SigningKey.load_or_create(work / "keys" / "bench.pem")

    def build():
        with PackageBuilder(
            work / "package",
            title="基准测试 证据包",
            organization="留痕 bench",
            external_id="BENCH-1",
            signer=key,
            fsync=fsync,
        ) as builder:
            for path in originals:
                builder.add_file(
                    f"录像/{path.name}",
                    path,
                    expected=recorded[path],
                    metadata={"device": "DSJ-00001", "officer": "bench"},
                )
            return builder.finish()

    result, build_wall, build_cpu = _timed(build)
    images, disc_wall, disc_cpu = _timed(
        lambda: write_disc_images(
            result.path, work / "discs", signer=key, medium_name=medium, fsync=fsync
        )
    )
    shutil.rmtree(work / "package")
    shutil.rmtree(work / "discs")
    return {
        "build_wall": build_wall,
        "build_cpu": build_cpu,
        "disc_wall": disc_wall,
        "disc_cpu": disc_cpu,
        "wall": build_wall + disc_wall,
        "cpu": build_cpu + disc_cpu,
        "images": len(images),
        "image_bytes": sum(i.size for i in images),
    }


def child(args: argparse.Namespace) -> None:
    """One size, measured in a process of its own (its peak RSS is the packaging's). Each
    variant of ours sits between two runs of its baseline; the faster baseline counts."""
    work = Path(args.work)
    originals = sorted((work / "originals").iterdir())
    total = sum(p.stat().st_size for p in originals)
    from liuhen.evidence.digests import digest_file

    recorded = {p: digest_file(p) for p in originals}  # fixed at upload in Liuhen: not timed
    load_before = os.getloadavg()
    fast_base = [baseline(originals, work)]
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
    fast = package(originals, work, args.medium, fsync=False, recorded=recorded)
    if args.profile:
        profiler.disable()
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats("tottime").print_stats(20)
        stats.sort_stats("cumulative").print_stats(25)
    fast_base.append(baseline(originals, work))
    durable_base = [baseline(originals, work, durable=True)]
    durable = package(originals, work, args.medium, fsync=True, recorded=recorded)
    durable_base.append(baseline(originals, work, durable=True))
    floor = sm3_floor(originals)
    print(
        json.dumps(
            {
                "bytes": total,
                "files": len(originals),
                "fast": fast,
                "fast_baseline": min(fast_base),
                "durable": durable,
                "durable_baseline": min(durable_base),
                "sm3_floor_one_pass": floor,
                "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "load_before": load_before,
                "load_after": os.getloadavg(),
            }
        )
    )


def measure(size: int, files: int, medium: str, base: Path, *, profile: bool = False) -> dict:
    work = Path(tempfile.mkdtemp(prefix="liuhen-bench-packaging-", dir=base))
    try:
        make_originals(work / "originals", size, files)
        done = subprocess.run(
            [sys.executable, __file__, "--child", "--work", str(work), "--medium", medium,
             *(["--profile"] if profile else [])],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        if profile:
            print(done.stderr, file=sys.stderr)
        return json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(r: dict) -> None:
    mib = r["bytes"] / (1 << 20)
    print(
        f"\n{r['bytes'] / GIB:.2f} GiB in {r['files']} originals -> "
        f"{r['fast']['images']} ISO image(s), {r['fast']['image_bytes'] / GIB:.2f} GiB"
    )
    for name, label, base_label in (
        ("fast", "fsync=False", "cp + sha256sum"),
        ("durable", "fsync=True (default)", "cp + sync + sha256sum"),
    ):
        ours, (base_wall, base_cpu) = r[name], r[f"{name}_baseline"]
        print(f"  {label}")
        print(
            f"    baseline {base_label:22s}: wall {base_wall:7.2f} s  cpu {base_cpu:7.2f} s  "
            f"({mib / base_wall:5.0f} MiB/s)"
        )
        print(
            f"    package (BagIt + checks)       : wall {ours['build_wall']:7.2f} s  "
            f"cpu {ours['build_cpu']:7.2f} s"
        )
        print(
            f"    discs (ISO + check)            : wall {ours['disc_wall']:7.2f} s  "
            f"cpu {ours['disc_cpu']:7.2f} s"
        )
        print(
            f"    ours                           : wall {ours['wall']:7.2f} s  "
            f"cpu {ours['cpu']:7.2f} s  ({mib / ours['wall']:5.0f} MiB/s)"
        )
        print(
            f"    ratio baseline / ours          : {base_wall / ours['wall']:.2f}  (target >= 0.5)"
        )
        print(
            f"    CPU ratio baseline / ours      : {base_cpu / ours['cpu']:.2f}  "
            f"(steadier under load; package {ours['build_cpu'] / ours['cpu']:.0%} of our CPU)"
        )
    floor = r["sm3_floor_one_pass"]
    print(
        f"  SM3 floor, 1 pass of openssl dgst -sm3: {floor:.2f} s -> best possible ratio "
        f"{r['fast_baseline'][0] / floor:.2f} (fsync=False)"
    )
    print(f"  peak RSS of the packaging process: {r['peak_rss_mib']:.0f} MiB")
    before = " ".join(f"{x:.2f}" for x in r["load_before"])
    after = " ".join(f"{x:.2f}" for x in r["load_after"])
    print(f"  load average before / after: {before} / {after}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=10.0, help="size of the originals (GiB)")
    parser.add_argument("--files", type=int, default=16)
    parser.add_argument("--medium", default="bd", help="cd, dvd, bd or a byte count")
    parser.add_argument("--dir", default=tempfile.gettempdir(), help="where to work")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile the packaging at the smaller size (to stderr)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.medium.isdigit():
        args.medium = int(args.medium)
    if args.child:
        child(args)
        return
    print(
        f"cores: {os.cpu_count()}, affinity: {len(os.sched_getaffinity(0))}, "
        f"load: {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    results = [
        measure(int(gb * GIB), args.files, args.medium, Path(args.dir),
                profile=args.profile and gb == args.gb / 4)
        for gb in (args.gb / 4, args.gb)
    ]
    for r in results:
        report(r)
    small, large = results
    print(
        f"\npeak RSS {small['peak_rss_mib']:.0f} MiB at {small['bytes'] / GIB:.2f} GiB, "
        f"{large['peak_rss_mib']:.0f} MiB at {large['bytes'] / GIB:.2f} GiB "
        f"(flat: memory does not follow the size)"
    )


if __name__ == "__main__":
    main()
