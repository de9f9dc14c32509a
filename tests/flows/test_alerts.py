"""Alerts: detection on hand-built rows, delivery to a local webhook through Apprise, and a publish that
survives a dead webhook."""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from gex_service import alerts as al

D1, D2 = dt.date(2025, 1, 2), dt.date(2025, 1, 3)


def _row(session, **kw):
    base = {"underlying": "SPX", "session": session, "spot": 5900.0, "gamma_flip": 5800.0, "regime": "positive",
            "call_wall": 6000.0, "put_wall": 5700.0}
    return {**base, **kw}


def test_no_alert_when_nothing_moved_enough():
    rows = [_row(D1), _row(D2, spot=5950.0, gamma_flip=5820.0, call_wall=6050.0, put_wall=5650.0)]  # walls moved 0.83%, 0.88%
    assert al.detect(rows, wall_move_pct=1.0) == []
    assert al.detect(rows[:1]) == [] and al.detect([]) == []


def test_each_kind_of_alert():
    (regime,) = al.detect([_row(D1), _row(D2, regime="negative")])
    assert (regime.kind, regime.underlying, regime.session) == ("regime_change", "SPX", D2)
    assert regime.message == "SPX 2025-01-03: regime positive -> negative"

    (cross,) = al.detect([_row(D1), _row(D2, spot=5790.0, gamma_flip=5810.0)])
    assert cross.kind == "flip_cross" and "now below it (5810.00" in cross.message
    (up,) = al.detect([_row(D1, spot=5790.0), _row(D2, spot=5805.0)])
    assert up.kind == "flip_cross" and "now above it" in up.message

    moves = al.detect([_row(D1), _row(D2, call_wall=6100.0, put_wall=5600.0)], wall_move_pct=1.5)
    assert [(a.kind, a.message.split(": ")[1]) for a in moves] == [
        ("wall_move", "call wall 6000.00 -> 6100.00 (+1.67%, threshold 1.5%)"),
        ("wall_move", "put wall 5700.00 -> 5600.00 (-1.75%, threshold 1.5%)"),
    ]
    assert al.detect([_row(D1), _row(D2, call_wall=6100.0, put_wall=5600.0)], wall_move_pct=2.0) == []


def test_missing_values_never_alert():
    rows = [_row(D1, gamma_flip=None, regime=None, call_wall=None),
            _row(D2, spot=5000.0, gamma_flip=None, regime="negative", call_wall=7000.0, put_wall=float("nan"))]
    assert al.detect(rows) == []


def test_wall_threshold_and_urls_from_the_environment(monkeypatch, caplog):
    monkeypatch.setenv(al.ENV_WALL_PCT, "2.5")
    assert al.wall_threshold_pct() == 2.5
    monkeypatch.setenv(al.ENV_WALL_PCT, "lots")
    with caplog.at_level(logging.WARNING, logger=al.__name__):
        assert al.wall_threshold_pct() == al.WALL_MOVE_PCT
    assert "GEX_ALERT_WALL_PCT='lots'" in caplog.text
    monkeypatch.setenv(al.ENV_URLS, " json://127.0.0.1:1/a , ,slack://T/B/C ")
    assert al.alert_urls() == ["json://127.0.0.1:1/a", "slack://T/B/C"]
    assert al.redact_url("slack://T0K3N/B/C", 3) == "url #3 (slack://***)"


class _Receiver:
    """A webhook on 127.0.0.1 answering ``status`` and keeping the bodies it received."""

    def __init__(self, status: int = 200):
        self.bodies: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                outer.bodies.append(json.loads(self.rfile.read(length) or b"{}"))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"json://127.0.0.1:{self.server.server_address[1]}/hook?token=s3cr3t"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"json://127.0.0.1:{port}/hook?token=s3cr3t"


ALERT = al.Alert("regime_change", "SPX", D2, "SPX 2025-01-03: regime positive -> negative")


def test_send_delivers_to_a_local_webhook():
    with _Receiver() as rx:
        assert al.send([ALERT], [rx.url]) == 1
    assert len(rx.bodies) == 1
    assert rx.bodies[0]["title"] == "GEX alerts" and rx.bodies[0]["message"] == ALERT.message
    assert al.send([], [rx.url]) == 0  # nothing to say: nothing sent


def test_failing_webhooks_log_one_redacted_line_each_and_never_raise(caplog):
    with _Receiver(500) as bad, _Receiver() as good, caplog.at_level(logging.WARNING, logger=al.__name__):
        sent = al.send([ALERT], [bad.url, _closed_port_url(), "nonsense://", good.url])
    assert sent == 1 and len(good.bodies) == 1 and len(bad.bodies) == 1
    ours = [r.getMessage() for r in caplog.records if r.name == al.__name__]
    assert ours == ["alerts: delivery to url #1 (json://***) failed (1 alerts not sent there)",
                    "alerts: delivery to url #2 (json://***) failed (1 alerts not sent there)",
                    "alerts: url #3 (nonsense://***) is not a URL Apprise understands; skipped"]
    assert "s3cr3t" not in caplog.text


@pytest.mark.usefixtures("prefect_api")
def test_publish_writes_the_levels_feed_and_survives_dead_webhooks(warehouse, tmp_path, monkeypatch):
    from gex_warehouse.connect import connect

    from pipelines.compute import compute
    from pipelines.publish import publish

    compute(str(warehouse))
    con = connect(warehouse)
    try:  # make the newest session's regime differ from the one before: one regime_change alert
        last = con.execute("SELECT max(session) FROM mart.regime_daily").fetchone()[0]
        con.execute("UPDATE mart.regime_daily SET regime = 'test-regime' WHERE session = ?", [last])
    finally:
        con.close()
    exports = tmp_path / "exports"
    monkeypatch.setenv(al.ENV_WALL_PCT, "1000")  # walls: no alert from the generated market
    with _Receiver(500) as bad, _Receiver() as good:
        monkeypatch.setenv(al.ENV_URLS, ",".join([bad.url, _closed_port_url(), good.url]))
        result = publish(str(warehouse), str(exports), force=True)
    assert len(result.sessions) == 3
    assert len(good.bodies) == 1 and len(bad.bodies) == 1  # the failing webhook did not stop the others
    lines = good.bodies[0]["message"].splitlines()
    assert any(ln.startswith("SPX 2025-01-06: regime ") and ln.endswith(" -> test-regime") for ln in lines)
    folder = Path(exports) / "levels" / "SPX"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [f"{s}.{e}" for s in ("2025-01-02", "2025-01-03", "2025-01-06") for e in ("csv", "json")] + ["latest.csv", "latest.json"])
    assert "test-regime" in (folder / "latest.csv").read_text()
    shutil.rmtree(exports)


def test_intraday_snapshot_rows_alert_with_their_new_york_time():
    """Consecutive snapshots of one session (for_snapshots' rows): a flip crossing between 10:30 and 10:35 is
    labelled with the snapshot's New York time; an end-of-day row keeps the plain session label."""
    at = dt.datetime(2025, 1, 3, 15, 35, tzinfo=dt.timezone.utc)  # 10:35 New York (EST)
    rows = [_row(D2, spot=5790.0, intraday=True, valuation_ts=at - dt.timedelta(minutes=5)),
            _row(D2, spot=5805.0, intraday=True, valuation_ts=at)]
    (cross,) = al.detect(rows)
    assert cross.kind == "flip_cross" and cross.message.startswith("SPX 2025-01-03 10:35 ET: spot 5805.00 crossed")
    eod = _row(D2, spot=5790.0, intraday=False, valuation_ts=at.replace(hour=21, minute=0))
    (cross,) = al.detect([rows[1], eod])
    assert cross.message.startswith("SPX 2025-01-03: spot 5790.00 crossed")
