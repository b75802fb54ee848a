"""Django settings for Liuhen. Every value comes from LIUHEN_* variables through liuhen.conf."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from liuhen import conf

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = conf.env_path("LIUHEN_DATA_DIR", Path.cwd() / "var")
DATA_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = conf.secret_key(DATA_DIR)
# Key rotation (docs/scale-out.md): the new key in LIUHEN_SECRET_KEY, the old ones here (comma list)
# until sessions signed with them have expired.
SECRET_KEY_FALLBACKS = conf.env_list("LIUHEN_SECRET_KEY_FALLBACKS", [])
DEBUG = conf.env_bool("LIUHEN_DEBUG", False)
ALLOWED_HOSTS = conf.env_list("LIUHEN_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = conf.env_list("LIUHEN_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "django_tasks",
    "django_tasks_db",
    # Bottom to top, as the layers of docs/architecture.md (checked by lint-imports).
    "liuhen.core",
    "liuhen.audit",
    "liuhen.access",
    "liuhen.org",
    "liuhen.cases",
    "liuhen.devices",
    "liuhen.evidence",
    "liuhen.records",
    "liuhen.rules",
    "liuhen.deadlines",
    "liuhen.keeping",
    "liuhen.supervision",
    "liuhen.disclosure",
    "liuhen.web",
]

MIDDLEWARE = [
    "liuhen.core.middleware.RequestIdMiddleware",  # first: error pages and logs name the id
    "liuhen.core.middleware.MultipartBoundaryMiddleware",  # before anything reads the body
    "liuhen.core.per_request.PerRequestMiddleware",  # scope lookups read once per GET
    "django.middleware.security.SecurityMiddleware",
    "liuhen.core.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "liuhen.access.middleware.IdleSessionMiddleware",  # Django's, saved once a minute at most
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "liuhen.audit.middleware.AuditContextMiddleware",
    "liuhen.access.middleware.OtpEnforcementMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "liuhen.core.middleware.InputLimitMiddleware",  # text over limits.MAX_FIELD_CHARS: 400
]

ROOT_URLCONF = "liuhen.web.urls"
CSRF_FAILURE_VIEW = "liuhen.core.pages.csrf_failure"  # the same error card as every page
WSGI_APPLICATION = "liuhen.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "liuhen.access.context_processors.liuhen",
            ],
        },
    }
]

DATABASES = {"default": conf.database(conf.env_str("LIUHEN_DATABASE_URL", ""), DATA_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend's passwords; a session's user loaded with its officer and unit. Sessions
    # made under ModelBackend's name before (issue 9 item 3) sign in again once.
    "liuhen.access.backends.OfficerBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if conf.env_bool("LIUHEN_FAST_PASSWORD_HASHER", False):
    # Only the test suite sets this: Argon2 on every factory-made user would dominate its runtime.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    # Not the user name with digits added (issue 16 item 14; OWASP ASVS 2.1.7's spirit).
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
     # 0.5 rather than Django's 0.7: "zhangsan123456" for zhangsan is 0.73, "wang1123456" for
     # wang1 only 0.625, and both are the user name with digits.
     "OPTIONS": {"user_attributes": ("username", "first_name", "last_name", "email"),
                 "max_similarity": 0.5}},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# Lockout: 5 failures → 15 minutes by default.
AXES_FAILURE_LIMIT = conf.env_int("LIUHEN_LOCKOUT_FAILURES", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=conf.env_int("LIUHEN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "liuhen.access.views.lockout_response"
AXES_VERBOSE = False

# The unit and officer options of the list filters are kept this long per process (a new
# officer appears in the filters within it; core/widgets.py QuickSelect, issue 9 item 3).
FILTER_OPTIONS_SECONDS = conf.env_int("LIUHEN_FILTER_OPTIONS_SECONDS", 60, minimum=0)
# The dashboard's deadline counts and most urgent deadlines, and the 待办 counts of deadlines
# and late uploads, are kept this long per scope and process (a deadline met leaves them
# within it; deadlines/queries.py summary, core/kept.py, issue 9 item 3).
DEADLINE_SUMMARY_SECONDS = conf.env_int("LIUHEN_DEADLINE_SUMMARY_SECONDS", 30, minimum=0)

# Idle timeout: the session expires after this much inactivity.
SESSION_IDLE_MINUTES = conf.env_int("LIUHEN_SESSION_IDLE_MINUTES", 30, minimum=1)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = False  # IdleSessionMiddleware pushes the deadline once a minute
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = conf.env_bool("LIUHEN_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Production behind a TLS reverse proxy (docs/deployment-tls.md, issue 16 item 14): the proxy
# terminates HTTPS and sets X-Forwarded-Proto; Django then redirects plain HTTP, sends HSTS and
# marks cookies Secure, and `liuhen check --deploy` is clean. Only set it when the proxy
# overwrites X-Forwarded-Proto on every request (a client could otherwise claim https).
BEHIND_TLS_PROXY = conf.env_bool("LIUHEN_BEHIND_TLS_PROXY", False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = conf.env_int("LIUHEN_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # The directive only allows a submission to the browsers' preload list; nothing is sent
    # anywhere by it (an intranet name is never submitted).
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Roles that must pass a TOTP second factor before they may do anything (comma list). By
# default the administrator and the roles with bureau-wide scope: 等保 2.0 third level
# (GB/T 22239-2019 8.1.4.1 d) asks two factors of administrators, and these accounts read every
# unit's cases (issue 16 item 6). An account that enrolled TOTP always needs it, whatever its role.
OTP_REQUIRED_ROLES = conf.env_list("LIUHEN_OTP_REQUIRED_ROLES",
                                   ["admin", "bureau_leader", "legal_office"])
# Accounts in this group need no TOTP: `liuhen demo` puts its accounts here so a newcomer logs
# in within a minute (README). Never put real accounts in it; the admin shows its members.
OTP_EXEMPT_GROUP = "演示账户（免动态口令）"
OTP_TOTP_ISSUER = "留痕 Liuhen"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = conf.env_str("LIUHEN_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns on every start when it is missing
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(DATA_DIR / "files")}},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Jobs: database queue by default (one command runs everything); Redis + RQ when scaled out.
# The job worker's CPU niceness (0-19; at least this, never less than it started with): its
# work waits for people's pages and for ingest (web/jobs.py yield_to_people, issue 9).
JOB_WORKER_NICE = min(conf.env_int("LIUHEN_JOB_WORKER_NICE", 10, minimum=0), 19)
TASKS_BACKEND = conf.env_choice("LIUHEN_TASKS", "db", ("db", "rq", "immediate"))
REDIS_URL = conf.env_str("LIUHEN_REDIS_URL", "redis://127.0.0.1:6379/0")
if TASKS_BACKEND == "db":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
elif TASKS_BACKEND == "rq":
    INSTALLED_APPS += ["django_rq"]
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    RQ_QUEUES = {"default": {"URL": REDIS_URL}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

# 档号 of a bound case file (卷宗, 第十二条): 全宗号-年度-保管期限-件号 by default (DA/T 22 codes:
# Y permanent, D30, D10). Fields: {fonds} {year} {period} {seq}.
FONDS_NUMBER = conf.env_str("LIUHEN_FONDS_NUMBER", "J001")
ARCHIVE_NUMBER_PATTERN = conf.env_str("LIUHEN_ARCHIVE_NUMBER_PATTERN",
                                      "{fonds}-{year}-{period}-{seq:04d}")

# Owed work (issue 16 item 3): a recording still pending derivation this many minutes after it
# was stored is queued again; a database job RUNNING this many hours is made ready again (at once
# when its worker on this machine is gone).
REQUEUE_AFTER_MINUTES = conf.env_int("LIUHEN_REQUEUE_AFTER_MINUTES", 30, minimum=1)
TASK_LEASE_HOURS = conf.env_int("LIUHEN_TASK_LEASE_HOURS", 6, minimum=1)
# Nightly backup (issue 16 item 5): the scheduler writes `liuhen backup` into a new folder under
# this one every day when it is set (empty: no scheduled backup).
BACKUP_DIR = conf.env_str("LIUHEN_BACKUP_DIR", "")

# What leaves the bureau (第十七条第三款): the Ed25519 key that signs evidence packages (created
# by `liuhen signing_key`, mode 0600) and the folder where each package as supplied is kept
# (复制留存), read-only, beside the register's digests.
SIGNING_KEY_FILE = conf.env_path("LIUHEN_SIGNING_KEY_FILE", DATA_DIR / "keys" / "signing-ed25519.pem")
# Beside it, the SM2 key (GB/T 32918, through the system's OpenSSL 3): evidence packages carry both
# signatures. Empty path: signing-sm2.pem in the Ed25519 key's folder; LIUHEN_SM2_SIGNING=false
# where the host's OpenSSL has no SM2 (packages are then signed with Ed25519 alone).
SM2_SIGNING = conf.env_bool("LIUHEN_SM2_SIGNING", True)
SM2_SIGNING_KEY_FILE = conf.env_str("LIUHEN_SM2_SIGNING_KEY_FILE", "")
SUPPLY_DIR = conf.env_path("LIUHEN_SUPPLY_DIR", DATA_DIR / "supplied")
# Exports under an export grant (拷贝/导出, 第十六条): each package as handed out, kept read-only.
EXPORT_DIR = conf.env_path("LIUHEN_EXPORT_DIR", DATA_DIR / "exported")
# Archive packages of cases (第十五条) made from the package page, with their disc images.
ARCHIVE_DIR = conf.env_path("LIUHEN_ARCHIVE_DIR", DATA_DIR / "archive")
# ClamAV's signature databases for the 四性 security check (DA/T 70): main.cvd, daily.cvd,
# bytecode.cvd copied in from outside on an offline intranet (docs/keeping.md); none there:
# the check says "not scanned", never "clean".
CLAMAV_DATABASE_DIR = conf.env_path("LIUHEN_CLAMAV_DATABASE_DIR", Path("/var/lib/clamav"))

# Case numbers: <prefix>〔<year>〕<n>号, the prefix per unit with this fallback.
CASE_NUMBER_PREFIX = conf.env_str("LIUHEN_CASE_NUMBER_PREFIX", "人社监")

# Evidence vault (第十三条, 第十八条).
EVIDENCE_STORAGE = conf.env_choice("LIUHEN_STORAGE", "local", ("local", "s3"))
EVIDENCE_DIR = DATA_DIR / "evidence"
# Unfinished uploads: with several nodes, a volume every node mounts (docs/scale-out.md).
UPLOAD_DIR = conf.env_path("LIUHEN_UPLOAD_DIR", DATA_DIR / "uploads")
UPLOAD_MAX_BYTES = conf.env_size("LIUHEN_UPLOAD_MAX_BYTES", 64 * 1024**3)
UPLOAD_EXPIRY_HOURS = conf.env_int("LIUHEN_UPLOAD_EXPIRY_HOURS", 72, minimum=1)
# Fixity (第二十六条 (二)): `liuhen scheduler` (started by `liuhen serve`) re-reads originals every
# so many hours (0: never); a sample of that many recordings, or all of them when 0.
FIXITY_EVERY_HOURS = conf.env_int("LIUHEN_FIXITY_EVERY_HOURS", 24, minimum=0)
FIXITY_SAMPLE = conf.env_int("LIUHEN_FIXITY_SAMPLE", 0, minimum=0)
# Audit chain anchors (liuhen/audit/anchors.py): where `liuhen audit anchor` and the scheduler
# write them, and how often the scheduler does (0: never). Copy them off this machine.
AUDIT_ANCHOR_DIR = conf.env_path("LIUHEN_AUDIT_ANCHOR_DIR", DATA_DIR / "audit-anchors")
AUDIT_ANCHOR_EVERY_HOURS = conf.env_int("LIUHEN_AUDIT_ANCHOR_EVERY_HOURS", 24, minimum=0)
# 第二十六条 detectors (liuhen/supervision/detectors.py): how often the scheduler runs them (0: never).
VIOLATION_DETECT_EVERY_HOURS = conf.env_int("LIUHEN_VIOLATION_DETECT_EVERY_HOURS", 24, minimum=0)
# 第二十四条: the scheduler drafts last month's circular (checked daily, drafted once a month).
CIRCULAR_DRAFT_MONTHLY = conf.env_bool("LIUHEN_CIRCULAR_DRAFT_MONTHLY", True)
# Several nodes may each run `liuhen scheduler`; the one holding the lease row leads and renews
# it every third of this; when it dies another node takes over after at most this long
# (issue 14 item 2: less than the shortest period, the 5-minute owed-work round).
SCHEDULER_LEASE_SECONDS = conf.env_int("LIUHEN_SCHEDULER_LEASE_SECONDS", 90, minimum=3)
UPLOAD_DEADLINE_HOURS = conf.env_int("LIUHEN_UPLOAD_DEADLINE_HOURS", 24, minimum=1)
# 第二十一条 定期维护保养: days between two maintenances of a device (a device may set its own).
DEVICE_MAINTENANCE_DAYS = conf.env_int("LIUHEN_DEVICE_MAINTENANCE_DAYS", 90, minimum=1)
# Statutory deadlines: working days before the due date from which a deadline shows yellow.
DEADLINE_WARN_WORKING_DAYS = conf.env_int("LIUHEN_DEADLINE_WARN_DAYS", 3, minimum=0)
S3_BUCKET = conf.env_str("LIUHEN_S3_BUCKET", "liuhen-evidence")
S3_ENDPOINT_URL = conf.env_str("LIUHEN_S3_ENDPOINT_URL", "")
S3_REGION = conf.env_str("LIUHEN_S3_REGION", "us-east-1")
S3_ACCESS_KEY = conf.env_str("LIUHEN_S3_ACCESS_KEY", "")
S3_SECRET_KEY = conf.env_str("LIUHEN_S3_SECRET_KEY", "")
S3_OBJECT_LOCK_DAYS = conf.env_int("LIUHEN_S3_OBJECT_LOCK_DAYS", 3650, minimum=1)
S3_OBJECT_LOCK_MODE = conf.env_choice("LIUHEN_S3_OBJECT_LOCK_MODE", "COMPLIANCE",
                                      ("COMPLIANCE", "GOVERNANCE"))
# Body-camera file-name patterns for the capture time, tried before the built-in ones of
# liuhen/evidence/data/filename_patterns.toml: a TOML file of the same shape (names, examples
# checked by `liuhen check`), and/or regexes with named groups ts, device, seq, one per line.
FILENAME_PATTERNS_FILE = conf.env_str("LIUHEN_FILENAME_PATTERNS_FILE", "")
FILENAME_PATTERNS = [p.strip() for p in conf.env_str("LIUHEN_FILENAME_PATTERNS", "").splitlines()
                     if p.strip()]
if EVIDENCE_STORAGE == "s3" and not S3_ENDPOINT_URL:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("LIUHEN_STORAGE=s3 needs LIUHEN_S3_ENDPOINT_URL (e.g. http://minio:9000).")

DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_TEMP_DIR = None

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": conf.env_str("LIUHEN_LOG_LEVEL", "WARNING").upper()},
}

# Lockout is per account, not per address: officers behind one intranet NAT must not lock each
# other out. (axes.W006 warns about exactly that choice.)
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
