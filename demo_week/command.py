"""``settlement demo --days N``: the app in process (no server), its clock set by the week."""

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime

import httpx

from app.core.clock import get_clock
from app.core.config import Settings
from app.main import create_app
from demo_week.week import Summary, run_week


class WeekClock:
    """The app's clock while the week plays: the moment of the step that runs."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, now: datetime) -> None:
        self.now = now.astimezone(UTC)


async def _play(
    settings: Settings,
    keys: dict[str, str],
    days: list[date],
    echo: Callable[[str], None],
    opening_loaded_for_week: bool,
) -> Summary | None:
    # The sealer and relay are the server's: the trail is sealed when it next runs.
    app = create_app(
        settings.model_copy(update={"background_workers": False, "log_level": "WARNING"})
    )
    clock = WeekClock(datetime.combine(days[0], datetime.min.time(), tzinfo=UTC))
    app.dependency_overrides[get_clock] = lambda: clock
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        return await run_week(
            transport, keys, clock, days, echo=echo, opening_loaded_for_week=opening_loaded_for_week
        )


def play_week(
    settings: Settings,
    keys: dict[str, str],
    days: list[date],
    echo: Callable[[str], None],
    *,
    opening_loaded_for_week: bool = True,
) -> Summary | None:
    return asyncio.run(_play(settings, keys, days, echo, opening_loaded_for_week))
