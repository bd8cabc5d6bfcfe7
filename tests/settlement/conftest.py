"""Settlement tests post opening inventory and cash the way position keeping's tests do."""

import pytest

from tests.positions.conftest import adjust
from tests.support import Api

__all__ = ["adjust"]


@pytest.fixture
async def matched_by_advice(api: Api, reference: None) -> None:
    """The demo's off-venue market matches bilateral instructions itself; with this fixture its
    bilateral instructions wait in ``pending`` for a sese.024 advice, as on any other market."""
    market = await api.get("/markets/XOFF", role="operations")
    response = await api.patch(
        "/markets/XOFF",
        json={"internal_settlement": False},
        role="operations",
        headers={"If-Match": market.headers["etag"]},
    )
    assert response.status_code == 200, response.text
