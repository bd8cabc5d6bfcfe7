"""Alembic, driven from code: the CLI, the readiness check and the tests all use this."""

from functools import cache

from alembic.config import Config
from alembic.script import ScriptDirectory

from alembic import command
from app.core.config import PROJECT_ROOT


def alembic_config(database_url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


@cache
def head_revision() -> str | None:
    script = ScriptDirectory(str(PROJECT_ROOT / "alembic"))
    return script.get_current_head()
