from liuhen.access.choices import Role
from liuhen.access.querysets import allows, user_role


def liuhen(request):
    user = getattr(request, "user", None)
    role = user_role(user)

    def can(action):
        return allows(user, action)

    return {
        "liuhen_role": role,
        "nav": {
            "cases": can("case.view"),
            "case_create": can("case.create"),
            "patrols": can("patrol.view"),
            "patrol_create": can("patrol.create"),
            "parties": can("party.view"),
            "party_create": can("party.create"),
            "recordings": can("recording.view"),
            "upload": can("recording.upload"),
            "late": can("recording.late_report"),
            "fixity": can("recording.fixity"),
            "devices": can("device.view"),
            "violations": can("violation.view"),
            "spot_checks": can("spotcheck.view"),
            "rectifications": can("rectification.view"),
            "circulars": can("circular.view"),
            "training": can("training.view"),
            "reports": can("report.view"),
            "keeping": can("disposal.view"),
            # 第十七条: party copies, supplies to review bodies and courts, marks.
            "disclosure": can("disclosure.view"),
            "audit": can("audit.view"),
            # 第十六条: unit heads approve access requests; whoever views records may ask.
            "access_inbox": role == Role.UNIT_HEAD,
            "access_mine": can("recording.view") or can("case.view"),
            "admin": bool(user and user.is_staff),
        },
    }
