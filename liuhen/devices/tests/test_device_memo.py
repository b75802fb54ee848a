"""The ingest station's device answers kept for one transaction (issue 9 item 2): a group of
files asks status and holder at many capture moments of one device (第十八条: judged by the
moment of capture); the memo must give exactly what the queries give, and ask the database
once per span in which the answer cannot change."""

from __future__ import annotations

from datetime import timedelta

import pytest

from liuhen.devices import queries, services
from liuhen.devices.tests.conftest import earlier

pytestmark = pytest.mark.django_db


def _history(people, device, frozen_clock) -> list:
    """Assigned, checked out by another officer, returned, faulty, repaired, checked out
    again: the moments at which something was logged, oldest first."""
    keeper, a, a2 = people["device_keeper"].user, people["officer_a"], people["officer_a2"]
    steps = [
        (earlier(hours=5, minutes=50), lambda: services.assign(actor=keeper, device=device,
                                                               officer=a)),
        (earlier(hours=5), lambda: services.check_out(actor=a2.user, device=device, officer=a2)),
        (earlier(hours=4), lambda: services.return_device(actor=a2.user, device=device)),
        (earlier(hours=3), lambda: services.report_fault(actor=a.user, device=device,
                                                        description="无法开机")),
        (earlier(hours=2, minutes=30), lambda: services.start_repair(
            actor=keeper, device=device, repairer="张工", organisation="某电子设备维修中心")),
        (earlier(hours=2), lambda: services.finish_repair(actor=keeper, device=device,
                                                         done="更换电池模块")),
        (earlier(hours=1), lambda: services.check_out(actor=a2.user, device=device, officer=a2)),
    ]
    for moment, step in steps:
        frozen_clock.move_to(moment)
        step()
    frozen_clock.move_to(earlier(seconds=0))
    device.refresh_from_db()
    return [moment for moment, _step in steps]


def test_memo_answers_as_the_queries_do_at_every_moment(people, device, frozen_clock):
    """第十八条: the flags of a file stored in a group are those it would get alone."""
    logged = _history(people, device, frozen_clock)
    registered = earlier(hours=6)
    moments = sorted({registered - timedelta(days=1), registered, earlier(seconds=0),
                      earlier(seconds=0) + timedelta(hours=1)}
                     | {m + timedelta(seconds=d) for m in logged for d in (-1, 0, 1, 600)})
    memo = queries.DeviceMemo()
    for at in moments:  # in order, then backwards: each span answers both ways
        assert memo.status_at(device, at) == queries.status_at(device, at), at
        assert memo.holder_at(device, at) == queries.holder_at(device, at), at
    for at in reversed(moments):
        assert memo.status_at(device, at) == queries.status_at(device, at), at
        assert memo.holder_at(device, at) == queries.holder_at(device, at), at
    for at in moments:
        assert (queries.capture_reasons(device, at, people["officer_a"], memo=memo)
                == queries.capture_reasons(device, at, people["officer_a"])), at


def test_memo_asks_once_per_span(people, device, frozen_clock, django_assert_num_queries):
    """A shift's files, captured minutes apart between two logged events, cost the queries of
    the first file only."""
    _history(people, device, frozen_clock)
    memo = queries.DeviceMemo()
    first = earlier(hours=3, minutes=50)  # checked in, in service, before the fault
    memo.status_at(device, first)
    memo.holder_at(device, first)
    with django_assert_num_queries(0):
        for minutes in range(1, 45, 7):
            at = first + timedelta(minutes=minutes)
            assert memo.status_at(device, at) == "in_service"
            assert memo.holder_at(device, at) == people["officer_a"]
    with django_assert_num_queries(0):  # in service from registration until the fault
        assert memo.status_at(device, earlier(hours=5, minutes=30)) == "in_service"


def test_a_device_never_held_answers_its_assigned_officer(people, bureau, make_device_plain):
    device = make_device_plain(bureau["team_a"], officer=people["officer_a"])
    memo = queries.DeviceMemo()
    for at in (earlier(days=400), earlier(seconds=0)):
        assert memo.holder_at(device, at) == queries.holder_at(device, at) == people["officer_a"]
        assert memo.status_at(device, at) == queries.status_at(device, at)


@pytest.fixture
def make_device_plain(db):
    """A device created without the lifecycle service: no transitions, no holdings."""
    from liuhen.devices.models import Device

    def make(unit, officer=None):
        return Device.objects.create(number="DSJ-PLAIN-1", kind="body_camera", unit=unit,
                                     officer=officer, status="in_service", model_name="DSJ-V9")

    return make
