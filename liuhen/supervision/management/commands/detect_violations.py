"""``liuhen detect_violations``: run the 第二十六条 detectors once (the page's button and the
scheduler call the same service)."""

from django.core.management.base import BaseCommand

from liuhen.supervision.services import detect_violations


class Command(BaseCommand):
    help = "运行第二十六条违规检测，新发现的事项列入待核查"

    def handle(self, *args, **options):
        summary = detect_violations()
        self.stdout.write(f"发现 {summary['findings']} 项，新增 {summary['created']} 项，"
                          f"更新 {summary['refreshed']} 项")
