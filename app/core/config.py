"""Settings, read once from the environment (prefix ``SETTLEMENT_``)."""

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SETTLEMENT_", extra="ignore")

    database_url: str = f"sqlite+aiosqlite:///{PROJECT_ROOT / 'var' / 'settlement.db'}"
    log_level: str = "INFO"
    log_json: bool = True
    db_pool_size: int = 10
    db_max_overflow: int = 10
    idempotency_retention_hours: int = 48
    batch_max_items: int = 10_000
    # The audit sealer (and the webhook relay) run inside every server process; one leads.
    background_workers: bool = True
    audit_seal_interval_seconds: float = 0.05
    # Benchmarks only: measure what the trail costs. Off, changes leave no audit record.
    audit_trail: bool = True


@lru_cache
def get_settings() -> Settings:
    return Settings()
