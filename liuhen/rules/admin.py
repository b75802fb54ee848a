from liuhen.rules.holiday_admin import *  # noqa
