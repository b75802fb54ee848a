"""The login backend: Django's ``ModelBackend``, loading a session's user with their officer
and unit in one query."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

UserModel = get_user_model()


class OfficerBackend(ModelBackend):
    """Every page asks the user's role and unit (``access.querysets.user_role``,
    ``user_unit``), and each was a query of its own after the session's user: two of the 35
    of a case page, on every request (issue 9 item 3). Joined here, the user comes with both;
    a user without an officer (an administrator) still loads, ``user.officer`` raising as
    before. Passwords, ``is_active`` and permissions stay ``ModelBackend``'s."""

    def get_user(self, user_id):
        try:
            user = UserModel._default_manager.select_related("officer__unit").get(pk=user_id)
        except UserModel.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
