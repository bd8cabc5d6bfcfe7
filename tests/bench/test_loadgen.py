"""The load generator's pure parts: requests as bytes, the response parser, and the open loop's
schedule and latency accounting (from the scheduled send, not the actual one)."""

from dataclasses import dataclass

from bench.lib.http1 import Response, ResponseParser, request_bytes
from bench.lib.loadgen import LOST, NOT_SENT, UNANSWERED, ClosedLoop, Job, OpenLoop, Outcome

OK = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\nok"


def test_a_post_is_built_with_host_headers_compact_json_and_its_length() -> None:
    raw = request_bytes(
        "POST", "/api/v1/trades", {"Authorization": "Bearer k"}, json_body={"a": "é", "b": 1}
    )

    assert raw == (
        b"POST /api/v1/trades HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer k\r\n"
        b"Content-Type: application/json\r\nContent-Length: 20\r\n\r\n"
        b'{"a":"\\u00e9","b":1}'
    )


def test_a_get_has_its_query_and_no_body() -> None:
    raw = request_bytes("GET", "/api/v1/trades", params={"limit": "50", "status": "captured"})

    assert raw == b"GET /api/v1/trades?limit=50&status=captured HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def test_responses_come_out_whole_however_the_bytes_are_cut() -> None:
    two = OK + b"HTTP/1.1 201 Created\r\nContent-Length: 5\r\n\r\nhello"
    for cut in range(1, len(two)):
        parser = ResponseParser()

        got = parser.feed(two[:cut]) + parser.feed(two[cut:])

        assert got == [Response(200, b"ok", True), Response(201, b"hello", True)], cut


def test_a_chunked_body_is_joined_and_its_trailers_skipped() -> None:
    raw = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"4;ext=1\r\nWiki\r\n6\r\npedia \r\n0\r\nX-Trailer: t\r\n\r\n" + OK
    )
    for cut in range(1, len(raw)):
        parser = ResponseParser()

        got = parser.feed(raw[:cut]) + parser.feed(raw[cut:])

        assert got == [Response(200, b"Wikipedia ", True), Response(200, b"ok", True)], cut


def test_a_chunked_body_without_trailers_ends_at_the_empty_line() -> None:
    raw = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"

    assert ResponseParser().feed(raw) == [Response(200, b"abc", True)]


def test_connection_close_and_http_1_0_are_not_kept_alive() -> None:
    close = b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    old = b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx"
    old_kept = b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\ny"

    assert ResponseParser().feed(close) == [Response(503, b"", False)]
    assert ResponseParser().feed(old) == [Response(200, b"x", False)]
    assert ResponseParser().feed(old_kept) == [Response(200, b"y", True)]


def test_a_body_without_length_ends_with_the_connection() -> None:
    parser = ResponseParser()

    assert parser.feed(b"HTTP/1.1 200 OK\r\n\r\npart one, ") == []
    assert parser.feed(b"part two") == []
    assert parser.closed() == Response(200, b"part one, part two", False)
    assert parser.closed() is None


def test_interim_answers_are_skipped_and_204_has_no_body() -> None:
    raw = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n" + OK

    assert ResponseParser().feed(raw) == [Response(204, b"", True), Response(200, b"ok", True)]


@dataclass
class FakeConnection:
    target: int
    clock: list[float]
    open: bool = True
    sent: float = 0.0
    index: int = -1

    def send(self, index: int, payload: bytes) -> None:
        self.index, self.sent = index, self.clock[0]


def open_loop(
    schedule: list[float], connections: int, targets: int = 1
) -> tuple[OpenLoop, list[float], list[FakeConnection]]:
    now = [0.0]
    job = Job([("127.0.0.1", 1)] * targets, [], connections, schedule=schedule)
    driver = OpenLoop(job, [b"r%d" % i for i in range(len(schedule))], clock=lambda: now[0])
    conns = [FakeConnection(i % targets, now) for i in range(connections)]
    driver.begin(8.0, conns)
    return driver, now, conns


def test_open_loop_latency_runs_from_the_scheduled_send_not_the_actual_one() -> None:
    driver, now, (a, b) = open_loop([0.125, 0.25, 0.5], connections=2)

    assert driver.dues == [8.125, 8.25, 8.5]
    now[0] = 8.125
    assert driver.dispatch(0)
    now[0] = 8.375  # the generator late: request 1 leaves 0.125 s after its time
    assert driver.dispatch(1)
    now[0] = 8.5
    driver.answered(b, 0, Response(201, b"", True))  # b was the warmest: popped first
    assert driver.dispatch(2)  # on b again, idle once more
    now[0] = 9.0
    driver.answered(a, 1, Response(201, b"", True))
    now[0] = 9.25
    driver.answered(b, 2, Response(500, b"", True))

    assert driver.send_lag == [0.0, 0.125, 0.0]
    assert driver.latencies == [0.375, 0.75, 0.75]
    assert driver.ended == [8.5, 9.0, 9.25]  # from the driver's start, at 0 here
    assert driver.statuses == [201, 201, 500]
    assert driver.remaining == 0
    assert driver.opened == 0


def test_open_loop_opens_a_connection_only_when_every_idle_one_is_busy_or_closed() -> None:
    driver, now, (a, _b) = open_loop([0.125, 0.25, 0.5, 0.75], connections=2)
    now[0] = 8.125
    assert driver.dispatch(0)
    now[0] = 8.25
    assert driver.dispatch(1)

    now[0] = 8.5
    assert not driver.dispatch(2)  # both busy: the caller opens one more
    a.open = False  # as a connection does when its answer says Connection: close
    driver.answered(a, 0, Response(201, b"", False))
    now[0] = 8.75
    assert not driver.dispatch(3)  # a is closed, b still busy

    assert driver.statuses == [201, UNANSWERED, UNANSWERED, UNANSWERED]
    assert driver.idle == [[]]


def test_open_loop_sends_each_request_to_its_server_in_turn() -> None:
    driver, now, conns = open_loop([0.125, 0.25, 0.375], connections=2, targets=2)
    for index, due in enumerate(driver.dues[:2]):
        now[0] = due
        assert driver.dispatch(index)

    assert [conn.index for conn in conns] == [0, 1]
    assert driver.targets == [0, 1, 0]
    now[0] = driver.dues[2]
    assert not driver.dispatch(2)  # its server's one connection is busy with request 0


def test_a_lost_connection_fails_its_request_from_the_scheduled_time() -> None:
    driver, now, (a,) = open_loop([0.25], connections=1)
    now[0] = 8.5
    assert driver.dispatch(0)
    now[0] = 9.0

    driver.lost(a, 0)

    assert (driver.statuses, driver.latencies, driver.send_lag) == ([LOST], [0.75], [0.25])


def test_closed_loop_hands_each_connection_the_next_request_and_times_from_its_send() -> None:
    now = [1.0]
    job = Job([("127.0.0.1", 1)], [], 2)
    driver = ClosedLoop(job, [b"a", b"b", b"c"], keep=True, clock=lambda: now[0])
    a, b = FakeConnection(0, now), FakeConnection(0, now)

    driver.start([a, b])
    assert (a.index, b.index) == (0, 1)
    now[0] = 1.5
    driver.answered(b, 1, Response(201, b"second", True))
    assert (b.index, b.sent) == (2, 1.5)
    now[0] = 2.0
    driver.answered(a, 0, Response(201, b"first", True))
    now[0] = 2.25
    driver.answered(b, 2, Response(409, b"third", True))

    assert driver.latencies == [1.0, 0.5, 0.75]
    assert driver.ended == [1.0, 0.5, 1.25]
    assert driver.statuses == [201, 201, 409]
    assert driver.bodies == [b"first", b"second", b"third"]
    assert driver.remaining == 0


def test_closed_loop_sends_nothing_more_once_its_seconds_are_over() -> None:
    now = [1.0]
    job = Job([("127.0.0.1", 1)], [], 2, seconds=0.5)
    driver = ClosedLoop(job, [b"a", b"b", b"c", b"d", b"e"], clock=lambda: now[0])
    a, b = FakeConnection(0, now), FakeConnection(0, now)
    driver.start([a, b])
    now[0] = 1.25
    driver.answered(b, 1, Response(200, b"", True))
    assert b.index == 2
    now[0] = 1.5
    driver.answered(a, 0, Response(200, b"", True))
    assert driver.remaining == 1  # request 2 still out; 3 and 4 will not go
    now[0] = 1.75
    driver.answered(b, 2, Response(200, b"", True))

    assert driver.statuses == [200, 200, 200, NOT_SENT, NOT_SENT]
    assert driver.remaining == 0
    assert driver.ended[:3] == [0.5, 0.25, 0.75]


def test_an_outcome_counts_statuses_and_cpu_per_request() -> None:
    statuses = [201, 201, 500, LOST, NOT_SENT]
    outcome = Outcome(statuses, [0.0] * 5, [0.0] * 5, [0] * 5, [b""] * 5, [], 0.002, 1.0, 32, 0, [])

    # Per request sent: the one never sent cost nothing.
    assert (outcome.count(201), outcome.count(LOST), outcome.cpu_ms) == (2, 1, 0.5)
