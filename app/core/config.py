"""Settings, read once from the environment (prefix ``SETTLEMENT_``)."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SETTLEMENT_", extra="ignore")

    database_url: str = f"sqlite+aiosqlite:///{PROJECT_ROOT / 'var' / 'settlement.db'}"
    log_level: str = "INFO"
    log_json: bool = True
    # Kept open: 32 concurrent requests held 10-20 connections, and a pool of 10 closed and
    # opened overflow connections all the time (a connection is a server process and a TLS try).
    db_pool_size: int = 20
    db_max_overflow: int = 10
    idempotency_retention_hours: int = 48
    batch_max_items: int = 10_000
    # Group commit of POST /trades (app/trades/capture/grouped.py): the concurrent captures of a
    # server process booked in one transaction, at most this many to a group.
    trade_capture_grouping: bool = True
    trade_capture_group_max: int = Field(default=256, gt=0)
    # The audit sealer (one process leads) and the webhook relay (any number share the work)
    # run inside every server process.
    background_workers: bool = True
    audit_seal_interval_seconds: float = 0.05
    # How often a server process folds the spare stripes of busy balances back into one row.
    balance_fold_interval_seconds: float = Field(default=30.0, gt=0)
    # The webhook relay (app/events/relay.py): how often it looks for work, how long one
    # attempt may take, how many go out at once, the retry back-off (full jitter in
    # [0, min(cap, base x 2^(failures-1))]) and how many failures in a row pause a subscription.
    webhook_poll_interval_seconds: float = Field(default=0.5, gt=0)
    webhook_timeout_seconds: float = Field(default=5.0, gt=0)
    webhook_connect_timeout_seconds: float = Field(default=2.0, gt=0)
    webhook_concurrency: int = Field(default=16, gt=0)
    webhook_retry_base_seconds: float = Field(default=5.0, gt=0)
    webhook_retry_cap_seconds: float = Field(default=3600.0, gt=0)
    webhook_pause_after_failures: int = Field(default=10, gt=0)
    # Our BIC: the sender (``AppHdr/Fr``) of the messages we send depositories. Fictitious.
    our_bic: str = "DEMOFRPPXXX"
    # How long a gateway's claim on an outbound message holds before another may claim it.
    outbound_claim_lease_seconds: float = Field(default=300.0, gt=0)
    # A batch run's lease: its worker renews the run's heartbeat at least every third of this
    # (and in each chunk); a running run with an older heartbeat is stalled (its worker died)
    # and a resume takes it over. Longer than any pause of a live worker.
    run_lease_seconds: float = Field(default=120.0, gt=0)
    # Request bodies (app/core/body_guard.py): at most this many bytes, unless the route has its
    # own cap below (exact path; an environment value replaces the whole mapping, as JSON); the
    # whole body within the read timeout. 10,000 trades in a batch take about 4 MB.
    body_limit_bytes: int = Field(default=1 << 20, gt=0)
    body_limits: dict[str, int] = Field(
        default_factory=lambda: {
            "/api/v1/trades/batch": 16 << 20,
            "/api/v1/statements": 20 << 20,
            "/api/v1/holdings-statements": 10 << 20,
            "/api/v1/status-advices": 1 << 20,
            "/api/v1/penalty-reports": 10 << 20,
        }
    )
    body_read_timeout_seconds: float = Field(default=30.0, gt=0)
    # `settlement serve` (app/core/serving.py): a request's headers must arrive within this time
    # and size, and an idle keep-alive connection closes after its timeout.
    header_read_timeout_seconds: float = Field(default=10.0, gt=0)
    header_max_bytes: int = Field(default=64 << 10, gt=0)
    keep_alive_timeout_seconds: int = Field(default=5, gt=0)
    # Benchmarks only: measure what the trail costs. Off, changes leave no audit record.
    audit_trail: bool = True


@lru_cache
def get_settings() -> Settings:
    return Settings()
