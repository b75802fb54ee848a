"""factory_boy factories for units, users and officers."""

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model

from liuhen.access.choices import Role
from liuhen.core.testing import today
from liuhen.org.choices import UnitKind
from liuhen.org.models import Officer, Unit


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    name = factory.Sequence(lambda n: f"测试单位{n}")
    kind = UnitKind.DIVISION
    parent = None


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("correct-horse-42")


class OfficerFactory(factory.django.DjangoModelFactory):
    """A formal-staff officer whose qualification is valid from five years before the frozen
    "today" to a year after it (第十一条), so cases opened months ago have qualified officers."""

    class Meta:
        model = Officer

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"执法员{n}")
    unit = factory.SubFactory(UnitFactory)
    role = Role.OFFICER
    credential_number = factory.Sequence(lambda n: f"13010020{n:04d}")
    is_formal_staff = True
    qualification_number = factory.Sequence(lambda n: f"冀执法资格{n:05d}")
    qualification_valid_from = factory.LazyFunction(lambda: today() - timedelta(days=5 * 365))
    qualification_valid_to = factory.LazyFunction(lambda: today() + timedelta(days=365))
