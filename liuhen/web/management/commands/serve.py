"""`liuhen serve`: the web server (gunicorn, threaded) and, by default, the job worker and the
scheduler of periodic jobs (fixity checks, clean-up of expired uploads), both supervised by
`liuhen supervise` (restarted when they exit)."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from liuhen import conf
from liuhen.web import http_errors
from liuhen.web.supervise import Child, Supervisor, liuhen_command
from liuhen.wsgi import application

# Seconds a web worker keeps an idle client connection open for its next request; 0 closes it
# after each response. A kept connection stays on the worker process that accepted it, and each
# process runs its Python on one core at a time (the GIL). Measured with 10 users of a unit
# head who connected one after another to an idle server (bench_pages_load.py, 1,000,000
# recordings, 2026-12-05 00:59 UTC, issue 9 item 3): all 10 connections sat on one of the two
# workers for the whole run (sampled from /proc every 0.25 s: 10 and 0), which used 20.8 s of
# CPU while the other used none; the server ran on one core of two and every page missed its
# p95. Closed after each response, every request is accepted afresh by whichever worker takes
# it first, an idle one before a busy one. A new connection costs a TCP handshake on the local
# network (behind the TLS proxy of docs/deployment-tls.md the browser's own connection stays
# open at the proxy): well under a millisecond against the 20-40 ms of CPU of a page. Behind a
# load balancer that holds connections to the server, LIUHEN_WEB_KEEPALIVE may be raised.
KEEPALIVE_SECONDS = 0


class Command(BaseCommand):
    help = "启动 Web 服务（gunicorn）和后台任务进程"

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("LIUHEN_BIND", "127.0.0.1:8000"))
        parser.add_argument(
            "--workers", type=int, default=conf.env_int("LIUHEN_WEB_WORKERS", 2, minimum=1)
        )
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument(
            "--keep-alive",
            type=int,
            dest="keepalive",
            default=conf.env_int("LIUHEN_WEB_KEEPALIVE", KEEPALIVE_SECONDS, minimum=0),
            help="空闲长连接保持秒数；0 表示每个响应后关闭连接（默认，见 KEEPALIVE_SECONDS）",
        )
        parser.add_argument("--no-worker", action="store_true", help="不启动后台任务进程")
        parser.add_argument(
            "--no-scheduler",
            action="store_true",
            help="不启动定期任务调度（固定值校验等），例如由另一台服务器负责",
        )

    def handle(self, *args, bind, workers, threads, keepalive, no_worker, no_scheduler, **options):
        from gunicorn.app.base import BaseApplication  # only `liuhen serve` runs gunicorn

        # The worker and the scheduler run under `liuhen supervise`, which restarts them when
        # they exit (issue 16 item 2); this process restarts the supervisor itself if it dies.
        supervisor = None
        if settings.TASKS_BACKEND in ("db", "rq") and not (no_worker and no_scheduler):
            args = ["supervise"] + ["--no-worker"] * no_worker + ["--no-scheduler"] * no_scheduler
            supervisor = Supervisor([Child("supervise", liuhen_command(*args))])
            supervisor.start()
            threading.Thread(
                target=_watch, args=(supervisor,), name="liuhen-supervise", daemon=True
            ).start()

        _queue_upload_recovery()
        _preload_media_libraries()
        _warm_pdf_fonts()

        http_errors.install()  # gunicorn's own 400/414/431 as the API's JSON error

        stderr = self.stderr

        class App(BaseApplication):
            def load_config(self):
                self.cfg.set("bind", bind)
                self.cfg.set("workers", workers)
                self.cfg.set("threads", threads)
                self.cfg.set("worker_class", "gthread")
                self.cfg.set("keepalive", keepalive)
                # Large evidence uploads stream for minutes; the heartbeat, not the request, times out.
                self.cfg.set("timeout", 300)
                self.cfg.set("graceful_timeout", 10)
                self.cfg.set("accesslog", os.environ.get("LIUHEN_ACCESS_LOG") or None)
                # gunicorn's control socket defaults to one path per user
                # (~/.gunicorn/gunicorn.ctl), so two servers on one machine took each other's;
                # Liuhen does not use it: off unless LIUHEN_CONTROL_SOCKET names a path.
                control = os.environ.get("LIUHEN_CONTROL_SOCKET", "").strip()
                if control:
                    self.cfg.set("control_socket", control)
                else:
                    self.cfg.set("control_socket_disable", True)

            def load(self):
                return application

            def run(self):
                # BaseApplication.run, with the arbiter below (same error handling).
                try:
                    _stop_aware_arbiter(self, supervisor).run()
                except RuntimeError as exc:
                    stderr.write(f"\nError: {exc}\n")
                    raise SystemExit(1) from exc

        self.stdout.write(f"留痕已启动：http://{bind}/  （Ctrl+C 停止）")
        try:
            App().run()
        finally:
            if supervisor is not None:
                supervisor.terminate()


def _stop_aware_arbiter(app, supervisor: Supervisor | None):
    from gunicorn.arbiter import Arbiter

    class StopAwareArbiter(Arbiter):
        """gunicorn's arbiter that tells the supervisor watch a stop has begun, the moment the
        stop signal arrives. Ctrl+C (SIGINT to the terminal's process group) or systemd's stop
        (SIGTERM to the whole control group) reaches `liuhen supervise` too, which then exits
        while gunicorn is still stopping its web workers (up to graceful_timeout with a request
        in flight); without this the watch took that exit for a crash and started a new
        supervisor, worker and scheduler during the shutdown."""

        def __init__(self, app, supervisor: Supervisor | None):
            self.liuhen_supervisor = supervisor
            super().__init__(app)

        def signal(self, sig, frame):
            if sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT) and self.liuhen_supervisor:
                self.liuhen_supervisor.stopping = True  # only a flag: safe in a signal handler
            super().signal(sig, frame)

    return StopAwareArbiter(app, supervisor)


def _watch(supervisor: Supervisor) -> None:
    """Restart `liuhen supervise` if it exits (gunicorn reaps it, so its status reads 0)."""
    while not supervisor.stopping:
        supervisor.poll()
        time.sleep(1)


def _queue_upload_recovery() -> None:
    """Queue the recovery of uploads a crash left complete but unstored (issue 16): the job
    worker stores them soon after start-up; the scheduler repeats it every 15 minutes."""
    if settings.TASKS_BACKEND not in ("db", "rq"):
        return
    from liuhen.evidence.tus.recovery import upload_upkeep_task

    try:
        upload_upkeep_task.enqueue()
    except Exception:  # noqa: BLE001 - the queue may be down; the scheduler tries again
        logging.getLogger(__name__).exception("could not queue the upload recovery")
    finally:
        from django.db import connections

        connections.close_all()  # never hand an open connection to the forked workers


def _preload_media_libraries() -> None:
    """Import, before the workers fork, the media libraries that probing an upload needs
    (PyAV with FFmpeg's libraries, Pillow's format plugins). Otherwise the first upload a
    worker finishes waits for them and its memory jumps then; imported here, the workers
    share them from the start (the system checks already imported every view)."""
    import av  # noqa: F401
    from PIL import Image

    Image.init()


# One line in each of the PDFs' fonts, regular and bold (the forms use Noto Serif CJK SC, the
# ledgers and registers Noto Sans CJK SC).
WARM_PDF_HTML = (
    '<p style="font-family: Noto Serif CJK SC">留痕<b>留痕</b></p>'
    '<p style="font-family: Noto Sans CJK SC">留痕<b>留痕</b></p>'
)


def _warm_pdf_fonts() -> float | None:
    """Render one small PDF in this process before gunicorn forks its web workers, so that
    they start with WeasyPrint, Pango, HarfBuzz and fontconfig loaded and the fonts' pages
    read: the first document a clerk generates after a start does not wait for them (issue 13
    item 6: 7-10 s when each worker loaded them on its first PDF, while a background process
    only warmed fontconfig's cache for itself). Rendering leaves no thread behind, so the
    fork is safe. Returns the seconds it took; a failure only costs that first PDF its speed
    (logged). LIUHEN_WARM_PDF_FONTS=0 turns it off."""
    if not conf.env_bool("LIUHEN_WARM_PDF_FONTS", True):
        return None
    from liuhen.records.pdf import render_pdf  # the path every PDF of Liuhen takes

    started = time.perf_counter()
    try:
        render_pdf(WARM_PDF_HTML)
    except Exception:  # noqa: BLE001 - the server starts all the same
        logging.getLogger(__name__).exception("could not warm the PDF fonts")
        return None
    return time.perf_counter() - started
