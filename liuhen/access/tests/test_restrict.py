"""restrict() on the Unit model itself (its unit_lookup is "pk")."""

from liuhen.org.models import Unit


def test_unit_head_sees_own_unit_and_sub_units(people, bureau):
    head = people["head_detachment"].user
    names = set(Unit.objects.restrict(head, "case.view").values_list("name", flat=True))
    assert names == {"劳动保障监察支队", "监察一大队", "监察二大队"}


def test_officer_sees_only_own_unit_and_others_nothing(people, bureau):
    officer = people["officer_a"].user
    assert list(Unit.objects.restrict(officer, "case.view")) == [bureau["team_a"]]
    assert not Unit.objects.restrict(people["device_keeper"].user, "case.view").exists()
    assert Unit.objects.restrict(people["legal"].user, "case.view").count() == 5
