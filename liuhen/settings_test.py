"""Settings for the test suite: the real settings with a throw-away data folder."""

import os
import tempfile

os.environ.setdefault("LIUHEN_FAST_PASSWORD_HASHER", "1")
os.environ.setdefault("LIUHEN_DATA_DIR", tempfile.mkdtemp(prefix="liuhen-test-"))
os.environ.setdefault("LIUHEN_TASKS", "immediate")
# In-process tests step the upload hasher's follower themselves (uploads/hashing.py); servers
# started by tests do not inherit LIUHEN_TEST_* variables and run it as deployed.
os.environ.setdefault("LIUHEN_TEST_NO_UPLOAD_FOLLOWER", "1")
# Tests add officers and units and look for them in the list filters at once.
os.environ.setdefault("LIUHEN_FILTER_OPTIONS_SECONDS", "0")
# ... and meet deadlines and read the dashboard's counts at once.
os.environ.setdefault("LIUHEN_DEADLINE_SUMMARY_SECONDS", "0")
# Tests log users in with force_login; the TOTP tests switch enforcement on themselves.
os.environ.setdefault("LIUHEN_OTP_REQUIRED_ROLES", "")

from liuhen.settings import *  # noqa: E402,F403
