"""Benchmark: pages under load, 10 concurrent users for 60 s, on 1,000,000 recordings and
100,000 cases, through `liuhen serve` with its default workers (job worker running).

    python bench/bench_pages_load.py                        # SQLite
    python bench/bench_pages_load.py --db postgres          # PostgreSQL (LIUHEN_DATABASE_URL's
                                                            # server, else 127.0.0.1:5432)
    python bench/bench_pages_load.py --db both
    python bench/bench_pages_load.py --rows 100000 --cases 10000 --seconds 15   # quick
    python bench/bench_pages_load.py --profile 20           # no load: where each page's CPU goes

The database: ``_seed.seed`` (shared with bench_recording_list.py; a bureau, 2 detachments, 30 teams, 300 officers
and devices, ~5,000 cases, ~2,000 parties, and the recordings bulk-inserted in SQL, a fifth of
them linked to a case), then cases bulk-inserted up to ``--cases`` into the same teams (every
kind and stage, opened over three years, two officers and a party each, as
``bench_cases.build`` does), 10 legal affairs office logins (bureau-wide scope) and 10 unit
heads of a detachment (its 15 teams: half of everything). It is built once and kept under
``bench/out/pages-<db>-<rows>-<cases>-<key>/`` (gitignored; ``--cache-dir`` puts it in a folder
that outlives the checkout, e.g. /work/pagesdb; the key changes with the
migrations and the loader, and a stale cache is replaced): the SQLite data folder, or a
``pg_dump`` restored into a fresh database (then ``VACUUM ANALYZE``, as autovacuum would). Each
run works on a copy and throws it away.

The load: ``liuhen serve`` (2 web workers × 8 threads, the job worker, the scheduler with its
periodic jobs marked as just run) and, for each role, ``--users`` virtual users who log in
through ``/login/`` (CSRF token and session cookie, like a browser) and then, each on its own
HTTP/1.1 connection (kept alive as long as the server keeps it; ``liuhen serve`` closes it after
each response unless LIUHEN_WEB_KEEPALIVE says otherwise) and without pause, request in turn: the case list, the recording list,
a case page, a recording page (random ones of 200 in the role's scope; half of the cases have
recordings) and the dashboard, for ``--seconds``. A small Python client rather than ``hey``:
hey sends one URL per run, so it could not mix the five pages in one load, follow a login
with its CSRF token, or pick a different case or recording on each request; the client's own
CPU time is printed, so its share of the 2 cores can be seen.

Baseline, in the same run: the same users on ``/healthz`` (every middleware, the session, no
page) for ``--baseline-seconds``: the server's CPU time per request there is the framework's
floor, and the pages' CPU per request is printed as a multiple of it.

Printed per role and page: requests, errors (non-200, including a redirect to the login),
p50/p95/p99/max in ms (targets p95 < 300 ms, p99 < 600 ms); per phase the requests per second,
the server's CPU time (its process tree from /proc: web workers, master, job worker, scheduler)
per request and in all, the client's CPU time, and the load average before and after; per web
worker its CPU time and how many client connections it held (sampled from /proc), since a
worker runs its Python on one core at a time. ``--serve-env NAME=VALUE`` runs the server with
a setting changed, to compare it with the defaults.
The statutory deadlines and completeness snapshots are computed once after the load
(``liuhen deadlines --refresh``, ``liuhen completeness``), as a live installation keeps them. Not in
the database: audit entries beyond those of the load itself (a live installation's log is
much longer).
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _deploy as d  # noqa: E402
from _otp import enroll, login_fields  # noqa: E402

LOADER_VERSION = 2  # bump when the world below changes: the cache key includes it
LOGINS_PER_ROLE = 10
SAMPLES = 200
ROLES = {"legal": "法制机构 legal affairs office (bureau-wide)", "head": "unit head (detachment)"}
PAGES = ("case list", "recording list", "case page", "recording page", "dashboard")
TARGET_P95, TARGET_P99 = 300.0, 600.0


# -- the database (built in a subprocess whose environment points Django at it) ------------
def cache_key(rows: int, cases: int) -> str:
    """The loader's identity. Not the migrations: a cache built before a migration landed is
    brought up to date by ``liuhen migrate`` on each copy, as an installation is upgraded (a
    1,000,000-recording build takes the better part of an hour on a shared machine)."""
    digest = hashlib.sha256(f"{LOADER_VERSION} {rows} {cases}".encode())
    digest.update((d.BENCH / "_seed.py").read_bytes())  # its seed() is reused
    return digest.hexdigest()[:12]


def build(rows: int, cases: int, out: Path) -> None:
    """Migrate and fill the database this process's environment names; write world.json."""
    import django

    django.setup()
    import _seed
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    people = _seed.seed(rows)
    print(f"   {rows:,} recordings in {time.perf_counter() - started:.0f} s", flush=True)
    lh = d.liuhen()
    teams = list(lh.Unit.objects.filter(kind=lh.UnitKind.TEAM).order_by("pk"))
    with_recordings = list(lh.Case.objects.values_list("pk", flat=True))
    add_cases(lh, teams, cases - len(with_recordings))
    # What a live installation keeps up to date as cases move: the statutory deadlines (the
    # dashboard counts them) and the completeness snapshots (the case page shows them).
    for command in (["deadlines", "--refresh"], ["completeness", "--format", "json"]):
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "liuhen", *command],
            check=True,
            stdout=subprocess.DEVNULL,
            cwd=d.ROOT,
        )
        print(f"   liuhen {' '.join(command)} in {time.perf_counter() - t0:.0f} s", flush=True)
    bureau = lh.Unit.objects.get(parent__isnull=True)
    detachment = people["_detachment"]
    logins = {
        "legal": [
            lh.OfficerFactory(unit=bureau, role=lh.Role.LEGAL_OFFICE)
            for _ in range(LOGINS_PER_ROLE)
        ],
        "head": [
            lh.OfficerFactory(unit=detachment, role=lh.Role.UNIT_HEAD)
            for _ in range(LOGINS_PER_ROLE)
        ],
    }
    hashed = make_password(d.PASSWORD, hasher="argon2")  # as the server hashes, once
    users = [o.user_id for officers in logins.values() for o in officers]
    type(logins["legal"][0].user).objects.filter(pk__in=users).update(password=hashed)
    rng = random.Random(2026)
    scopes = {
        "legal": None,
        "head": list(
            lh.Unit.objects.filter(path__startswith=detachment.path).values_list("pk", flat=True)
        ),
    }
    samples = {role: sample(lh, rng, scope, set(with_recordings)) for role, scope in scopes.items()}
    d.quiet_scheduler()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    world = {
        "rows": rows,
        "cases": lh.Case.objects.count(),
        "password": d.PASSWORD,
        "recordings": lh.Recording.objects.count(),
        "users": {role: [o.user.username for o in officers] for role, officers in logins.items()},
        "samples": samples,
        "built_seconds": round(time.perf_counter() - started, 1),
        "vendor": connection.vendor,
    }
    (out / "world.json").write_text(json.dumps(world))
    print(
        f"   built in {world['built_seconds']:.0f} s: {world['recordings']:,} recordings, "
        f"{world['cases']:,} cases",
        flush=True,
    )


def add_cases(lh, teams: list, count: int, batch: int = 5000) -> None:
    """``count`` more cases in ``teams``, bulk-inserted with two officers and a party each."""
    from django.db import transaction
    from django.utils import timezone

    rng = random.Random(2027)
    today = timezone.localdate()
    crews = {
        t.pk: list(lh.Officer.objects.filter(unit=t).values_list("pk", flat=True)) for t in teams
    }
    parties = {
        t.pk: list(lh.Party.objects.filter(unit=t).values_list("pk", flat=True)) for t in teams
    }
    creator = lh.Officer.objects.filter(unit=teams[0]).first().user_id
    kinds = lh.CaseKind.values
    stages = [s for s in lh.Stage.values if s != lh.Stage.PATROL]
    causes = [
        "拖欠劳动者工资",
        "未依法订立书面劳动合同",
        "违法延长劳动者工作时间",
        "未按规定建立职工名册",
        "追缴欠缴社会保险费",
        "工资支付情况专项检查",
    ]
    officer_link, party_link = lh.Case.officers.through, lh.Case.parties.through
    made = 0
    while made < count:
        rows = []
        for _ in range(min(batch, count - made)):
            made += 1
            team = teams[made % len(teams)]
            opened = today - timedelta(days=rng.randint(0, 3 * 365))
            rows.append(
                lh.Case(
                    number=f"冀人社监〔{opened.year}〕B{made}号",
                    year=opened.year,
                    unit_id=team.pk,
                    kind=kinds[made % len(kinds)],
                    cause=rng.choice(causes),
                    source=lh.CaseSource.COMPLAINT,
                    stage=stages[made % len(stages)],
                    opened_on=opened,
                    created_by_id=creator,
                )
            )
        with transaction.atomic():
            created = lh.Case.objects.bulk_create(rows)
            if created[0].pk is None:  # a backend without RETURNING on bulk insert
                created = list(lh.Case.objects.filter(number__in=[c.number for c in rows]))
            links, plinks = [], []
            for case in created:
                crew = crews[case.unit_id]
                first = case.pk % len(crew)
                links += [
                    officer_link(case_id=case.pk, officer_id=crew[first]),
                    officer_link(case_id=case.pk, officer_id=crew[(first + 1) % len(crew)]),
                ]
                plinks.append(
                    party_link(case_id=case.pk, party_id=rng.choice(parties[case.unit_id]))
                )
            officer_link.objects.bulk_create(links)
            party_link.objects.bulk_create(plinks)
        if made % 20_000 < batch:
            print(f"   … {made:,} more cases", flush=True)


def sample(lh, rng: random.Random, units: list[int] | None, with_recordings: set) -> dict:
    """Case and recording ids in a scope (None: all): half the cases with recordings."""
    cases = lh.Case.objects.all() if units is None else lh.Case.objects.filter(unit_id__in=units)
    ids = list(cases.values_list("pk", flat=True))
    linked = [i for i in ids if i in with_recordings]
    others = [i for i in ids if i not in with_recordings]
    picked = rng.sample(linked, min(len(linked), SAMPLES // 2))
    picked += rng.sample(others, min(len(others), SAMPLES - len(picked)))
    recordings = lh.Recording.objects.all()
    if units is not None:
        recordings = recordings.filter(unit_id__in=units)
    first = recordings.order_by("pk").values_list("pk", flat=True).first()
    last = recordings.order_by("-pk").values_list("pk", flat=True).first()
    candidates = rng.sample(range(first, last + 1), min(last - first + 1, SAMPLES * 20))
    found = list(recordings.filter(pk__in=candidates).values_list("pk", flat=True)[:SAMPLES])
    return {"cases": picked, "recordings": found}


# -- cache: build once, copy or restore for each run ---------------------------------------
def prepare_database(
    db: str,
    rows: int,
    cases: int,
    work: Path,
    rebuild: bool,
    caches: Path = d.OUT,
    serve_env: dict | None = None,
):
    """A deployment (not started) on a fresh copy of the cached database (kept under
    ``caches``); (deployment, PgDatabase or None, world). ``serve_env``: extra variables of
    ``liuhen serve`` (to compare a server setting against the defaults)."""
    key = cache_key(rows, cases)
    cache = caches / f"pages-{db}-{rows}-{cases}-{key}"
    if rebuild:
        shutil.rmtree(cache, ignore_errors=True)
    pg = d.PgDatabase(pg_base_url(), "pages") if db == "postgres" else None
    try:
        dep = d.Deployment(data_dir=work, database_url=pg.url if pg else "", extra_env=serve_env)
        if not (cache / "world.json").exists():
            for stale in caches.glob(f"pages-{db}-{rows}-{cases}-*"):
                shutil.rmtree(stale, ignore_errors=True)
            partial = cache.with_name(cache.name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            partial.mkdir(parents=True)
            print(
                f"   building the database (cached afterwards in {cache})",
                flush=True,
            )
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--build",
                    str(partial),
                    "--rows",
                    str(rows),
                    "--cases",
                    str(cases),
                ],
                # Factory-made users (300 officers) hashed with MD5, not Argon2: minutes saved.
                env={**dep.env, "LIUHEN_FAST_PASSWORD_HASHER": "1"},
                cwd=d.ROOT,
                check=True,
            )
            if pg:
                t0 = time.perf_counter()
                subprocess.run(
                    ["pg_dump", "-Fc", "-Z", "1", "-f", str(partial / "dump.pgc"), pg.url],
                    check=True,
                )
                print(f"   pg_dump in {time.perf_counter() - t0:.0f} s", flush=True)
            else:
                shutil.copytree(
                    work / "var", partial / "var", ignore=shutil.ignore_patterns("*-wal", "*-shm")
                )
            partial.rename(cache)
        else:
            t0 = time.perf_counter()
            if pg:
                subprocess.run(
                    ["pg_restore", "--no-owner", "-j", "2", "-d", pg.url, str(cache / "dump.pgc")],
                    check=True,
                )
                import psycopg

                with psycopg.connect(pg.url, autocommit=True) as conn:
                    conn.execute("VACUUM ANALYZE")
            else:
                shutil.rmtree(work / "var", ignore_errors=True)
                shutil.copytree(cache / "var", work / "var")
            print(
                f"   cached database {cache} "
                f"{'restored' if pg else 'copied'} in {time.perf_counter() - t0:.0f} s",
                flush=True,
            )
        t0 = time.perf_counter()
        try:
            dep.manage("migrate", "-v0")  # the migrations that landed after the cache was built
        except RuntimeError as exc:
            raise SystemExit(
                f"the cached database {cache.name} does not migrate to this code (a migration "
                f"renumbered or edited?): run again with --rebuild\n{exc}"
            ) from exc
        print(f"   migrate in {time.perf_counter() - t0:.0f} s", flush=True)
        dep.script("quiet-scheduler")
        world = json.loads((cache / "world.json").read_text())
        # The legal affairs office must pass TOTP (LIUHEN_OTP_REQUIRED_ROLES): its logins get an
        # authenticator here, on each copy, so a cache built before that rule stays usable.
        subprocess.run(
            [sys.executable, __file__, "--enroll", ",".join(world["users"]["legal"])],
            env=dep.env,
            cwd=d.ROOT,
            check=True,
        )
        return dep, pg, world
    except BaseException:
        if pg:
            pg.drop()
        raise


def pg_base_url() -> str:
    return d.database_url() or "postgres://postgres@127.0.0.1:5432/postgres"


# -- the client ----------------------------------------------------------------------------
class Browser:
    """One user's keep-alive connection and cookies."""

    def __init__(self, port: int) -> None:
        self.port, self.cookies = port, {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> tuple[int, str, bytes]:
        headers = {"Accept": "text/html", **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (0, 1):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                content = response.read()
                break
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt:
                    raise
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, response.getheader("Location") or "", content

    def login(self, username: str, password: str, otp_step: int | None = None) -> None:
        """The login form; with ``otp_step`` (a user with an authenticator) also the TOTP code
        of the time step ``otp_step`` steps from now."""
        status, _, page = self.request("GET", "/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if status != 200 or token is None:
            raise RuntimeError(f"login page: {status}")
        fields = {
            **login_fields(username, password, otp_step),
            "csrfmiddlewaretoken": token.group(1).decode(),
        }
        form = urlencode(fields).encode()
        status, location, _ = self.request(
            "POST", "/login/", form, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        if status != 302 or "login" in location:
            raise RuntimeError(f"login of {username} failed: {status} {location}")


def paths(samples: dict, rng: random.Random) -> dict:
    return {
        "case list": lambda: "/cases/",
        "recording list": lambda: "/recordings/",
        "case page": lambda: f"/cases/{rng.choice(samples['cases'])}/",
        "recording page": lambda: f"/recordings/{rng.choice(samples['recordings'])}/",
        "dashboard": lambda: "/",
    }


def load(
    dep: d.Deployment, browsers: list[Browser], samples: dict | None, seconds: float, think: float
) -> dict:
    """Every browser in a thread, requesting the pages in turn (or /healthz when ``samples`` is
    None) until ``seconds`` have passed; latencies per page, errors, CPU times."""
    timings: dict[str, list[float]] = {}
    errors: dict[str, dict] = {}
    lock = threading.Lock()
    stop_at = [0.0]

    def user(index: int, browser: Browser) -> None:
        rng = random.Random(index)
        plan = paths(samples, rng) if samples else {"healthz": lambda: "/healthz"}
        names = list(plan)
        i = index
        while time.monotonic() < stop_at[0]:
            name = names[i % len(names)]
            i += 1
            t0 = time.perf_counter()
            try:
                status, _, _ = browser.request("GET", plan[name]())
            except (http.client.HTTPException, OSError) as exc:
                status = type(exc).__name__
            elapsed = (time.perf_counter() - t0) * 1000
            with lock:
                timings.setdefault(name, []).append(elapsed)
                if status != 200:
                    errors.setdefault(name, {}).setdefault(str(status), 0)
                    errors[name][str(status)] += 1
            if think:
                time.sleep(think)

    if samples:  # unmeasured: every page once per user (templates, query plans, connections)
        for b in browsers:
            for make in paths(samples, random.Random(0)).values():
                b.request("GET", make())
    log_from = dep.log_size()
    load_before, cpu_before, client_before = d.loadavg(), dep.cpu(), time.process_time()
    threads = [threading.Thread(target=user, args=(i, b)) for i, b in enumerate(browsers)]
    with d.WorkerSampler(dep) as workers:
        started = time.monotonic()
        stop_at[0] = started + seconds
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.monotonic() - started
    server = d.cpu_delta(cpu_before, dep.cpu())
    requests = sum(len(v) for v in timings.values())
    return {
        "wall_s": round(wall, 1),
        "requests": requests,
        "requests_per_s": round(requests / wall, 1),
        "server_cpu_s": server,
        "server_cpu_ms_per_request": round(server["total"] * 1000 / max(requests, 1), 1),
        "web_workers": workers.summary(),
        "client_cpu_s": round(time.process_time() - client_before, 1),
        "load_before": load_before,
        "load_after": d.loadavg(),
        "pages": {name: stats(times, errors.get(name, {})) for name, times in timings.items()},
        "server_errors": dep.errors_in_log(log_from),
    }


def profile_pages(world: dict, runs: int, roles: list[str]) -> None:
    """``--profile``: each page ``runs`` times through Django's test client in this process
    (Django set up in the copy's environment), for one login of each role: CPU ms per request
    (PostgreSQL's own CPU not included), queries and their time, the slowest queries, then the
    same requests under cProfile and the functions with the most own time."""
    import cProfile
    import pstats

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    for role in roles:
        username = world["users"][role][-1]
        client = Client()
        response = client.post(
            "/login/", login_fields(username, world["password"], 0 if role == "legal" else None)
        )
        if response.status_code != 302 or "login" in response.url:
            raise SystemExit(f"login of {username}: {response.status_code}")
        for name, make in paths(world["samples"][role], random.Random(1)).items():
            for _ in range(2):  # templates, query plans, the kept counts
                client.get(make())
            cpu = wall = sql = 0.0
            queries, slow = 0, []
            for _ in range(runs):
                path = make()
                with CaptureQueriesContext(connection) as captured:
                    t0, c0 = time.perf_counter(), time.process_time()
                    response = client.get(path)
                    cpu += time.process_time() - c0
                    wall += time.perf_counter() - t0
                if response.status_code != 200:
                    raise SystemExit(f"{path}: {response.status_code}")
                queries += len(captured)
                for q in captured.captured_queries:
                    sql += float(q["time"])
                    slow.append((float(q["time"]), q["sql"][:300]))
            print(
                f"== [{connection.vendor}] {ROLES[role]}, {name}: CPU {cpu * 1000 / runs:.1f} ms, "
                f"wall {wall * 1000 / runs:.1f} ms, {queries / runs:.1f} queries, "
                f"SQL {sql * 1000 / runs:.1f} ms per request",
                flush=True,
            )
            for seconds, text in sorted(slow, reverse=True)[:5]:
                print(f"   {seconds * 1000:7.1f} ms  {text}")
            profiler = cProfile.Profile()
            for _ in range(runs):
                path = make()
                profiler.enable()
                client.get(path)
                profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


def stats(times: list[float], errors: dict) -> dict:
    ordered = sorted(times)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, max(0, int(len(ordered) * p + 0.5) - 1))], 1)

    return {
        "n": len(ordered),
        "errors": errors,
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "max_ms": round(ordered[-1], 1),
    }


def report(title: str, phase: dict, floor: dict | None) -> None:
    ratio = ""
    if floor:
        ratio = (
            f" = {phase['server_cpu_ms_per_request'] / floor['server_cpu_ms_per_request']:.1f}"
            f"× /healthz"
        )
    cpu = phase["server_cpu_s"]
    print(
        f"-- {title}: {phase['requests']} requests in {phase['wall_s']} s "
        f"({phase['requests_per_s']}/s)\n"
        f"   server CPU {cpu['total']:.1f} s (web {cpu['web']:.1f}, master {cpu['master']:.1f},"
        f" jobs {cpu['jobs']:.1f}, scheduler {cpu['scheduler']:.1f}, "
        f"postgres {cpu['postgres']:.1f}) = "
        f"{phase['server_cpu_ms_per_request']} ms per request{ratio}; client CPU "
        f"{phase['client_cpu_s']} s; load {phase['load_before']} -> {phase['load_after']}"
    )
    for w in phase["web_workers"]:
        print(
            f"   web worker {w['pid']}: CPU {w['cpu_s']:.1f} s "
            f"({w['cpu_s'] * 100 / max(phase['wall_s'], 0.1):.0f} % of a core), client "
            f"connections held {w['connections_mean']} ({w['connections_min']}-"
            f"{w['connections_max']})"
        )
    print(f"   {'page':<16}{'n':>6}{'errors':>8}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}  ms")
    for name in (*PAGES, "healthz"):
        s = phase["pages"].get(name)
        if s is None:
            continue
        errs = sum(s["errors"].values())
        verdict = ""
        if name != "healthz":
            ok = s["p95_ms"] < TARGET_P95 and s["p99_ms"] < TARGET_P99 and not errs
            verdict = "  met" if ok else "  MISSED"
        print(
            f"   {name:<16}{s['n']:>6}{errs:>8}{s['p50_ms']:>8.0f}{s['p95_ms']:>8.0f}"
            f"{s['p99_ms']:>8.0f}{s['max_ms']:>8.0f}{verdict}"
            f"{'  ' + json.dumps(s['errors']) if errs else ''}"
        )
    for line, count in phase["server_errors"].items():
        print(f"   server log: {count} × {line}")
    print(flush=True)


def run_db(db: str, args) -> dict:
    work = Path(tempfile.mkdtemp(prefix="liuhen-bench-pages-"))
    dep = pg = None
    try:
        dep, pg, world = prepare_database(
            db,
            args.rows,
            args.cases,
            work,
            args.rebuild,
            Path(args.cache_dir),
            dict(item.split("=", 1) for item in args.serve_env),
        )
        if args.profile:
            (work / "world.json").write_text(json.dumps(world))
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--profile-world",
                    str(work / "world.json"),
                    "--profile",
                    str(args.profile),
                    "--roles",
                    ",".join(args.roles),
                ],
                env=dep.env,
                cwd=d.ROOT,
                check=True,
            )
            return {"db": db, "profiled": args.profile}
        if args.prepare_only:
            print(
                f"   [{db}] cached database ready: {world['recordings']:,} recordings, "
                f"{world['cases']:,} cases",
                flush=True,
            )
            return {"db": db, "recordings": world["recordings"], "cases": world["cases"]}
        dep.start()
        print(
            f"   [{db}] {world['recordings']:,} recordings, {world['cases']:,} cases; liuhen "
            f"serve on {dep.url}, processes { {k: len(v) for k, v in dep.roles().items()} }; "
            f"{args.users} users per role, {args.seconds:.0f} s each",
            flush=True,
        )
        result = {"db": db, "recordings": world["recordings"], "cases": world["cases"]}
        sessions = {}
        for role in args.roles:
            names = world["users"][role]
            sessions[role] = [Browser(dep.port) for _ in range(args.users)]
            for i, b in enumerate(sessions[role]):
                step = i // len(names) if role == "legal" else None
                b.login(names[i % len(names)], world["password"], step)
        first = sessions[args.roles[0]]
        floor = load(dep, first, None, args.baseline_seconds, args.think_ms / 1000)
        report(f"[{db}] baseline /healthz, {args.users} users ({args.roles[0]})", floor, None)
        result["healthz"] = floor
        for role in args.roles:
            phase = load(
                dep, sessions[role], world["samples"][role], args.seconds, args.think_ms / 1000
            )
            report(f"[{db}] {ROLES[role]}, {args.users} users", phase, floor)
            result[role] = phase
        return result
    finally:
        if dep:
            dep.stop()
            kept = dep.keep_log(f"pages-{db}")
            print(f"   server log kept: {kept.relative_to(d.ROOT) if kept else 'none'}")
        if pg:
            pg.drop()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="recordings")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument(
        "--db",
        choices=("sqlite", "postgres", "both"),
        default="postgres" if d.database_url() else "sqlite",
    )
    parser.add_argument("--users", type=int, default=10, help="concurrent users per role")
    parser.add_argument("--seconds", type=float, default=60, help="load per role")
    parser.add_argument("--baseline-seconds", type=float, default=15, help="/healthz load")
    parser.add_argument("--roles", default="legal,head", help="legal, head or both (comma)")
    parser.add_argument("--think-ms", type=float, default=0, help="pause between requests")
    parser.add_argument("--rebuild", action="store_true", help="ignore the cached database")
    parser.add_argument(
        "--cache-dir",
        default=str(d.OUT),
        help="where the built databases are kept (default bench/out/; one that outlives the "
        "worktree lets several checkouts share them)",
    )
    parser.add_argument(
        "--serve-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a variable for liuhen serve (repeatable), to compare a setting with the defaults",
    )
    parser.add_argument(
        "--prepare-only",
        action="store_true",
        help="build (or check) the cached database and stop, without a load",
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="instead of the load: each page N times through Django's test client on a copy of "
        "the cached database, per role: CPU ms, queries, SQL ms, the slowest queries, and the "
        "functions that took most CPU (cProfile)",
    )
    parser.add_argument("--profile-world", default="", help=argparse.SUPPRESS)
    parser.add_argument("--build", default="", help=argparse.SUPPRESS)
    parser.add_argument("--enroll", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        build(args.rows, args.cases, Path(args.build))
        return
    if args.profile_world:
        profile_pages(
            json.loads(Path(args.profile_world).read_text()),
            args.profile,
            [r for r in args.roles.split(",") if r],
        )
        return
    if args.enroll:
        import django

        django.setup()
        enroll(args.enroll.split(","))
        return
    args.roles = [r for r in args.roles.split(",") if r]
    facts = d.header(
        f"pages under load: {args.users} users per role, {args.seconds:.0f} s, "
        f"{args.rows:,} recordings, {args.cases:,} cases, liuhen serve defaults"
    )
    results = []
    try:
        for db in ("sqlite", "postgres") if args.db == "both" else (args.db,):
            results.append(run_db(db, args))
    finally:
        d.footer(facts)
    print(json.dumps({**facts, "results": results}))


if __name__ == "__main__":
    main()
