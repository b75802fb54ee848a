"""`liuhen demo`: a believable bureau with people, parties and about 60 cases in every stage."""

from __future__ import annotations

import random
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from liuhen.access.choices import Role
from liuhen.cases import services as case_services
from liuhen.cases import stages
from liuhen.cases.choices import CaseKind, CaseSource, PartyKind, Stage
from liuhen.cases.validators import id_card_check_char, uscc_check_char
from liuhen.org.choices import UnitKind
from liuhen.org.models import Officer, Unit
from liuhen.supervision.demo import add_supervision
from liuhen.web.demo import add_records

DEMO_PASSWORD = "liuhen-demo-2026"

UNITS = [
    # (key, name, parent key, kind, case number prefix)
    ("bureau", "某市人力资源和社会保障局", None, UnitKind.BUREAU, "冀人社"),
    ("detachment", "劳动保障监察支队", "bureau", UnitKind.DIVISION, "冀人社监"),
    ("team1", "监察一大队", "detachment", UnitKind.TEAM, ""),
    ("team2", "监察二大队", "detachment", UnitKind.TEAM, ""),
    ("team3", "监察三大队", "detachment", UnitKind.TEAM, ""),
    ("levy", "社会保险费征缴科", "bureau", UnitKind.DIVISION, "冀人社征"),
    ("finance", "财务结算中心", "bureau", UnitKind.INSTITUTION, "冀人社收"),
    ("legal", "政策法规处", "bureau", UnitKind.DIVISION, ""),
]

# (username, name, unit key, role, formal staff, qualification: "ok" | "expired" | "none")
PEOPLE = [
    ("legal1", "周法明", "legal", Role.LEGAL_OFFICE, True, "ok"),
    ("leader1", "孙局长", "bureau", Role.BUREAU_LEADER, True, "ok"),
    ("head_zd", "李支队", "detachment", Role.UNIT_HEAD, True, "ok"),
    ("keeper1", "陈档案", "detachment", Role.RECORDS_KEEPER, True, "ok"),
    ("devices1", "刘设备", "detachment", Role.DEVICE_KEEPER, True, "ok"),
    ("head1", "王一队", "team1", Role.UNIT_HEAD, True, "ok"),
    ("zhang", "张伟", "team1", Role.OFFICER, True, "ok"),
    ("wang", "王芳", "team1", Role.OFFICER, True, "ok"),
    ("li", "李强", "team1", Role.OFFICER, True, "expired"),
    ("head2", "赵二队", "team2", Role.UNIT_HEAD, True, "ok"),
    ("liu", "刘洋", "team2", Role.OFFICER, True, "ok"),
    ("chen", "陈静", "team2", Role.OFFICER, True, "ok"),
    ("yang", "杨磊", "team2", Role.OFFICER, False, "none"),
    ("head3", "钱三队", "team3", Role.UNIT_HEAD, True, "ok"),
    ("huang", "黄敏", "team3", Role.OFFICER, True, "ok"),
    ("zhao", "赵军", "team3", Role.OFFICER, True, "ok"),
    ("wu", "吴刚", "team3", Role.OFFICER, True, "expired"),
    ("head_levy", "郑征缴", "levy", Role.UNIT_HEAD, True, "ok"),
    ("sun", "孙丽", "levy", Role.OFFICER, True, "ok"),
    ("zhou", "周杰", "levy", Role.OFFICER, True, "ok"),
    ("head_fin", "冯结算", "finance", Role.UNIT_HEAD, True, "ok"),
    ("xu", "徐红", "finance", Role.OFFICER, True, "ok"),
    ("ma", "马超", "finance", Role.OFFICER, True, "ok"),
]

COMPANIES = ["某某建筑劳务有限公司", "恒达餐饮管理有限公司", "华北电子科技有限公司", "顺通物流有限公司",
             "万家福超市有限公司", "鑫源纺织有限公司", "金桥物业服务有限公司", "远航人力资源服务有限公司",
             "绿野农业开发有限公司", "长城机械制造有限公司", "美佳家政服务有限公司", "新时代教育培训学校"]
PERSONS = ["刘建国", "张秀英", "王德明", "李桂兰", "赵志强", "孙玉梅"]
CAUSES = {
    CaseKind.PENALTY: ["拖欠劳动者工资", "未依法订立书面劳动合同", "违法延长劳动者工作时间",
                       "未按规定建立职工名册", "使用童工", "拒不执行劳动保障监察指令"],
    CaseKind.COERCION: ["逾期不缴纳罚款申请强制执行", "拒不履行行政处罚决定"],
    CaseKind.LEVY: ["核定社会保险费缴费基数", "追缴欠缴社会保险费"],
    CaseKind.FEE: ["职业技能鉴定收费", "人事考试考务费收取"],
    CaseKind.INSPECTION: ["工资支付情况专项检查", "根治欠薪冬季专项行动检查", "随机抽查用工情况"],
}
KIND_UNITS = {CaseKind.PENALTY: ["team1", "team2", "team3"], CaseKind.COERCION: ["team1", "team2", "team3"],
              CaseKind.LEVY: ["levy"], CaseKind.FEE: ["finance"],
              CaseKind.INSPECTION: ["team1", "team2", "team3"]}
KIND_COUNTS = {CaseKind.PENALTY: 24, CaseKind.COERCION: 8, CaseKind.LEVY: 10, CaseKind.FEE: 8,
               CaseKind.INSPECTION: 12}


def _id_card(n: int) -> str:
    first17 = f"1301021975{(n % 12) + 1:02d}{(n % 27) + 1:02d}{n % 1000:03d}"
    return first17 + id_card_check_char(first17)


def _uscc(n: int) -> str:
    first17 = f"91130100MA0{n:06d}"
    return first17 + uscc_check_char(first17)


class Command(BaseCommand):
    help = "生成演示数据：单位、人员、当事人和约60件各环节案件"

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="已有单位时什么也不做")
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, if_empty, seed, **options):
        if Unit.objects.exists():
            if if_empty:
                self.stdout.write("已有数据，跳过演示数据。")
                self._print_logins()
                return
            raise CommandError("数据库中已有单位，演示数据只能装入空库（可用 --if-empty 跳过）。",
                               returncode=1)
        rng = random.Random(seed)
        with transaction.atomic():
            self._build(rng)
        self.stdout.write(self.style.SUCCESS("演示数据已生成。"))
        self._print_logins()

    def _print_logins(self):
        self.stdout.write(f"演示账号（密码均为 {DEMO_PASSWORD}）：")
        for username, name, unit, role, *_ in PEOPLE:
            self.stdout.write(f"  {username:<10} {name}  {dict(UNITS_BY_KEY)[unit]}  {Role(role).label}")
        self.stdout.write("  admin      系统管理员（Django 管理后台）")

    # Long on purpose: demo data built top-down in one pass (units, people, parties, cases
    # walked along their stage paths), each step reading what the one before made.
    def _build(self, rng: random.Random):
        User = get_user_model()
        units: dict[str, Unit] = {}
        for key, name, parent, kind, prefix in UNITS:
            units[key] = Unit.objects.create(name=name, kind=kind, parent=units.get(parent),
                                             case_number_prefix=prefix)
        today = timezone.localdate()
        officers: dict[str, Officer] = {}
        for i, (username, name, unit, role, formal, qual) in enumerate(PEOPLE):
            user = User.objects.create_user(username=username, password=DEMO_PASSWORD,
                                            first_name=name)
            valid_to = {"ok": today + timedelta(days=700), "expired": today - timedelta(days=40),
                        "none": None}[qual]
            officers[username] = Officer.objects.create(
                user=user, name=name, unit=units[unit], role=role, is_formal_staff=formal,
                credential_number=f"1301{i + 1:06d}" if qual != "none" else "",
                qualification_number=f"冀执{2020 + i % 5}{i + 1:04d}" if qual != "none" else "",
                qualification_valid_from=date(2020, 1, 1) if qual != "none" else None,
                qualification_valid_to=valid_to)
        admin = User.objects.create_superuser(username="admin", password=DEMO_PASSWORD,
                                              email="admin@example.invalid")
        # The demo's accounts need no TOTP (settings.OTP_EXEMPT_GROUP), so a newcomer is in
        # within a minute; real accounts of the admin and bureau-wide roles need it.
        exempt, _ = Group.objects.get_or_create(name=settings.OTP_EXEMPT_GROUP)
        exempt.user_set.add(admin, *(o.user for o in officers.values()))
        Officer.objects.create(user=admin, name="系统管理员", unit=units["bureau"], role=Role.ADMIN,
                               is_formal_staff=True)
        parties = {}
        for key in ("team1", "team2", "team3", "levy", "finance"):
            actor = next(o for o in officers.values() if o.unit == units[key]
                         and o.role == Role.UNIT_HEAD).user
            parties[key] = [
                case_services.create_party(actor=actor, unit=units[key],
                                           kind=PartyKind.ORGANISATION, name=name,
                                           id_number=_uscc(hash((key, n)) % 900000 + n),
                                           legal_representative=rng.choice(PERSONS))
                for n, name in enumerate(rng.sample(COMPANIES, 5))
            ] + [
                case_services.create_party(actor=actor, unit=units[key], kind=PartyKind.PERSON,
                                           name=name, id_number=_id_card(n * 7 + len(key)))
                for n, name in enumerate(rng.sample(PERSONS, 2))
            ]
        for kind, count in KIND_COUNTS.items():
            for n in range(count):
                key = rng.choice(KIND_UNITS[kind])
                unit = units[key]
                qualified = [o for o in officers.values() if o.unit == unit
                             and o.role == Role.OFFICER and o.is_qualified]
                head = next(o for o in officers.values() if o.unit == unit
                            and o.role == Role.UNIT_HEAD)
                team = rng.sample(qualified, 2)
                opened = today - timedelta(days=rng.randint(3, 300))
                source = CaseSource.PATROL if kind == CaseKind.INSPECTION else rng.choice(
                    [CaseSource.COMPLAINT, CaseSource.REPORT, CaseSource.PATROL, CaseSource.REFERRAL])
                case = case_services.create_case(
                    actor=team[0].user, unit=unit, kind=kind, cause=rng.choice(CAUSES[kind]),
                    source=source, officer_ids=[o.pk for o in team],
                    party_ids=[rng.choice(parties[key]).pk], opened_on=opened,
                    complaint_received_on=opened - timedelta(days=rng.randint(0, 4))
                    if source in (CaseSource.COMPLAINT, CaseSource.REPORT) else None,
                    is_random_inspection=kind == CaseKind.INSPECTION and n % 3 == 0,
                    is_disputed=n % 5 == 0)
                # Spread the cases over their kind's path; archiving needs the rules gate,
                # so demo cases stop at the case file at the latest.
                path = [s for s in stages.path(kind) if s != Stage.ARCHIVING]
                target = path[n % len(path)]
                # A hearing only when requested; the cases meant to stop there request one
                # (n % 4 == 1 alone never coincided with the hearing slot of the path).
                if kind in (CaseKind.PENALTY, CaseKind.COERCION) and (
                        n % 4 == 1 or target == Stage.HEARING):
                    case_services.update_case_facts(actor=team[0].user, case=case,
                                                    hearing_requested=True)
                # 集体讨论 only for 情节复杂或者重大违法 (行政处罚法第五十七条第二款).
                if kind == CaseKind.PENALTY and target in (Stage.LEGAL_REVIEW, Stage.COLLECTIVE):
                    case_services.update_case_facts(actor=team[0].user, case=case,
                                                    is_complex_or_major=True)
                while case.stage not in (target, Stage.CASE_FILE):
                    options = stages.allowed_next(case)
                    if not options:
                        break
                    case = case_services.move_case(actor=team[0].user, case=case,
                                                   to_stage=options[0], note="演示数据")
                    if case.stage == Stage.DECISION and kind == CaseKind.PENALTY:
                        case_services.update_case_facts(actor=head.user, case=case,
                                                        decided_on=min(opened + timedelta(days=20), today))
        # Written records with realistic gaps (rules, issue 4); a few complete cases archived.
        add_records(rng=rng)
        # Devices, real recordings, a spot check, violations, training, a circular (issue 12).
        add_supervision(officers=officers)


UNITS_BY_KEY = [(key, name) for key, name, *_ in UNITS]
