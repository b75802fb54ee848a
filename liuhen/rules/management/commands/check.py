"""`liuhen check` is Django's own system check (``--deploy``, ``--fail-level``, tags …).

Until issue 8 it also re-evaluated every case's completeness and printed it after Django's
"System check identified no issues", so its JSON could not be read by a program. That is now
``liuhen completeness``; the options that belonged to it (``--format``, ``--unit``,
``--no-cases``) are still accepted here only to tell the user where the report went.
The rules data files are checked by a system check of their own (``liuhen.rules.checks``).
"""

from __future__ import annotations

from django.core.management.base import CommandError
from django.core.management.commands.check import Command as DjangoCheck

MOVED = ("完整性报告已移至 `liuhen completeness [--unit 单位] [--format table|json|csv]`；"
         "`liuhen check` 只做系统检查（Django）。")


class Command(DjangoCheck):
    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--format", help=f"（已移除）{MOVED}")
        parser.add_argument("--unit", help=f"（已移除）{MOVED}")
        parser.add_argument("--no-cases", action="store_true", help="（已移除，无需再指定）")

    def handle(self, *app_labels, **options):
        if options.get("format") or options.get("unit"):
            raise CommandError(MOVED)
        super().handle(*app_labels, **options)
