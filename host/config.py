"""Settings: one typed object built from `PLUGHOST_*` variables (and an optional plughost.toml).

Validated once at start-up so that a bad value stops the server with a message naming the variable,
instead of failing on the first request that needs it.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any, Literal

from aiohttp import web
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from host.forwarded import parse_networks

__all__ = ("SETTINGS", "ConfigError", "Settings", "load_settings")


class ConfigError(Exception):
    """A setting has a value the server cannot run with."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PLUGHOST_",
        toml_file="plughost.toml",
        extra="forbid",
        frozen=True,
    )

    data_dir: Path = Path("./var")
    db_url: str = ""
    broker_url: str = ""
    routes_dir: Path = Path("./routes.d")
    plugin_path: str = ""
    plugins_dir: Path = Path("./plugins")
    secret_key: str = Field(default="", repr=False)
    secret_key_file: Path | None = None
    """A file holding the signing key (Docker/Kubernetes secrets); beats the generated one."""
    admin_password: str = Field(default="", repr=False)

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    dev: bool = True
    """Apply pending migrations and start the embedded worker inside `plughost serve`."""

    log_level: str = "INFO"
    log_format: str = Field(default="auto", pattern="^(auto|json|text)$")
    """auto: text when standard error is a terminal, else JSON lines."""
    access_log: bool = True
    """One log line per HTTP request (method, path, status, ms, request id) from `plughost serve`."""

    max_body_bytes: int = Field(default=1 << 20, gt=0)
    event_loop: Literal["auto", "uvloop", "asyncio"] = "auto"
    """`plughost serve`'s event loop: uvloop when installed (auto), or the standard one."""
    anonymous_max_body_bytes: int = Field(default=64 << 10, gt=0)
    """The most a call without credentials may send, whatever its route allows (log-in bodies are
    tiny): nobody unauthenticated makes the server buffer megabytes."""
    token_ttl_seconds: int = Field(default=3600, gt=0)
    trust_forwarded: bool = False
    """Read X-Forwarded-For/-Proto, but only from a peer in `trusted_proxies` (docs/security.md)."""
    trusted_proxies: str = "127.0.0.1/32, ::1/128"
    """Comma-separated addresses/networks of our reverse proxies; the client is the rightmost
    X-Forwarded-For hop that is not one of them."""
    auth_user_cache_seconds: float = Field(default=5.0, ge=0)
    """How long a token's user (active, roles, token version) is cached: deleting, deactivating
    or stripping a user takes effect within this many seconds."""
    login_max_failures: int = Field(default=5, gt=0)
    login_window_seconds: float = Field(default=300.0, gt=0)
    """More than `login_max_failures` wrong passwords for one user name from one address within
    this window: 429 with Retry-After (API and admin UI; counted in the database)."""

    batch_max_items: int = Field(default=10_000, gt=0)
    batch_max_bytes: int = Field(default=64 << 20, gt=0)
    batch_concurrency: int = Field(default=8, gt=0)
    batch_commit_every: int = Field(default=100, ge=0)
    """Batch items share a commit: at most this many per commit (0 or 1: a commit per item)."""
    batch_commit_ms: float = Field(default=20.0, ge=0)
    """...and a batch's transaction stays open at most this long before it commits."""
    batch_idempotency_ttl_seconds: int = Field(default=86_400, gt=0)
    """How long an Idempotency-Key's stored answer (batch or batch item) is replayed."""

    upstream_secret_env_prefix: str = Field(default="PLUGHOST_UPSTREAM_SECRET_", min_length=1)
    """Route files may read only environment variables with this prefix (client.secret_env)."""
    upstream_secrets_dir: Path | None = None
    """The folder client.secret_file must be in; unset: route files cannot name files."""
    upstream_allow_link_local: bool = False
    """Allow upstream url/token_url on link-local and cloud metadata addresses (169.254.0.0/16)."""

    gateway_direct_api: bool = True
    """Requests naming no micro-app (no X-App-Name, no /apps/<app>/) reach the internal API."""
    routes_watch: bool = True
    """Follow routes.d with file-system events (inotify); the polling rescan runs besides."""
    routes_poll_seconds: float = Field(default=5.0, ge=0)
    """Rescan routes.d this often as a fallback for file systems without events (0: never)."""

    graphql_max_depth: int = Field(default=8, gt=0)
    graphql_max_tokens: int = Field(default=5_000, gt=0)
    graphql_max_query_chars: int = Field(default=100_000, gt=0)
    graphql_max_selections: int = Field(default=1_000, gt=0)
    """Fields in one operation after every fragment spread is expanded (docs/security.md)."""
    graphql_max_aliases: int = Field(default=50, ge=0)
    graphql_timeout_seconds: float = Field(default=10.0, gt=0)
    """Execution budget of one query; a query still running then is cancelled (400)."""

    # jobs (docs/jobs.md)
    jobs_queue: str = Field(default="plughost-jobs", pattern=r"^[A-Za-z0-9_.-]{1,80}$")
    jobs_max_items: int = Field(default=1_000_000, gt=0)
    jobs_max_attempts: int = Field(default=3, ge=1, le=100)
    jobs_parallelism: int = Field(default=8, ge=1, le=256)
    """Pump messages per job: how many workers (threads) may work on one job at once."""
    jobs_worker_threads: int = Field(default=4, ge=1, le=256)
    jobs_claim_batch: int = Field(default=8, ge=1, le=1000)
    jobs_lease_seconds: float = Field(default=30.0, gt=0)
    jobs_item_timeout: float = Field(default=60.0, gt=0)
    jobs_backoff_seconds: float = Field(default=1.0, ge=0)
    jobs_pump_seconds: float = Field(default=20.0, gt=0)
    jobs_credential_ttl: int = Field(default=7 * 86400, gt=0)
    jobs_webhook_url: str = ""
    jobs_webhook_secret: str = Field(default="", repr=False)
    jobs_alert_failed_ratio: float = Field(default=0.0, ge=0, le=1)
    """Send the webhook when a job fails and its failed-item ratio is at least this."""
    jobs_schedules: bool = True
    """Run cron-scheduled workflows from this process (every host may; a DB claim stops doubles)."""

    # events: the outbox and its relay (docs/deploy.md)
    outbox_lease_seconds: float = Field(default=30.0, gt=0)
    """How long a process holds a delivery before another may take it (a crash is noticed then)."""
    outbox_poll_seconds: float = Field(default=1.0, gt=0)
    """The relay looks for due deliveries this often even without a wake-up (NOTIFY)."""
    outbox_max_attempts: int = Field(default=8, ge=1, le=100)
    outbox_backoff_seconds: float = Field(default=1.0, ge=0)
    """First retry delay of a failed handler; doubles per attempt, at most 5 minutes."""
    outbox_retention_seconds: float = Field(default=86_400.0, gt=0)
    """Finished events older than this are pruned (dead letters are kept)."""

    # stopping (docs/deploy.md)
    shutdown_grace: float = Field(default=30.0, gt=0, le=3600)
    """SIGTERM: a serving process exits within this many seconds, in-flight requests included."""
    drain_delay: float = Field(default=0.0, ge=0, le=300)
    """SIGTERM: keep serving (health answering 503 "draining") this long before no longer
    accepting, so that a load balancer polling health stops sending first."""

    @field_validator("secret_key_file")
    @classmethod
    def _readable_file(cls, value: Path | None) -> Path | None:
        if value is not None and not (value.is_file() and os.access(value, os.R_OK)):
            raise ValueError("is not a readable file")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        parse_networks(value)
        return value

    @field_validator("db_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if value and not value.startswith(("sqlite://", "postgres://", "postgresql://")):
            raise ValueError("must start with sqlite:// or postgres://")
        return value.replace("postgresql://", "postgres://", 1)

    @field_validator("broker_url")
    @classmethod
    def _known_broker(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "amqp://", "amqps://", "stub")):
            raise ValueError("must be empty (embedded), redis://... or amqp://...")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return level

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # explicit arguments beat the environment, which beats plughost.toml
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    # derived values ---------------------------------------------------------------------------
    @property
    def database_url(self) -> str:
        return self.db_url or f"sqlite://{(self.data_dir / 'plughost.sqlite3').resolve()}"

    @property
    def proxy_networks(self) -> tuple[Any, ...]:
        return parse_networks(self.trusted_proxies) if self.trust_forwarded else ()

    @property
    def plugin_dirs(self) -> list[Path]:
        extra = [Path(p) for p in self.plugin_path.split(":") if p]
        return [self.plugins_dir, *extra]

    def resolved_secret_key(self) -> str:
        """The signing key: from the environment, else generated once into the data dir (0600)."""
        if self.secret_key:
            return self.secret_key
        if self.secret_key_file is not None:
            return self.secret_key_file.read_text().strip()
        return read_or_create_secret(self.data_dir / "secret-key")


def read_or_create_secret(path: Path, nbytes: int = 32) -> str:
    """Read a secret file, creating it with a random value and mode 0600 when missing."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(nbytes)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its value
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    return value


def load_settings(**overrides: Any) -> Settings:
    """Build the settings, turning pydantic's report into one readable ConfigError."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = "PLUGHOST_" + "_".join(str(p) for p in err["loc"]).upper()
            shown = "hidden" if _is_secret(name) else repr(err.get("input"))
            lines.append(f"{name}: {err['msg']} (got {shown})")
        raise ConfigError("invalid settings:\n  " + "\n  ".join(lines)) from None


def _is_secret(name: str) -> bool:
    """Never echo secrets in error messages or logs."""
    return any(word in name for word in ("SECRET", "PASSWORD", "TOKEN"))


SETTINGS = web.AppKey("settings", Settings)
"""The validated settings, set once by `create_app`."""
