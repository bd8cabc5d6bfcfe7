from tests.support import Api


async def test_healthz_answers_without_a_key(api: Api) -> None:
    response = await api.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
