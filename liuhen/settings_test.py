"""Settings for the test suite: the real settings with a throw-away data folder."""

import os
import tempfile

os.environ.setdefault("LIUHEN_FAST_PASSWORD_HASHER", "1")
os.environ.setdefault("LIUHEN_DATA_DIR", tempfile.mkdtemp(prefix="liuhen-test-"))
os.environ.setdefault("LIUHEN_TASKS", "immediate")

from liuhen.settings import *  # noqa: E402,F403
