"""The review app's pages and guards, through its real ASGI app (Starlette's test client):
hostile data is shown as text, the token and the CSRF token are enforced, decisions land."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

with warnings.catch_warnings():  # starlette 1.x prefers httpx2 for its test client
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from common.errors import UserError
from detection.review.app import build_app
from detection.review.serve import check_binding, make_server
from tests.detection.review.conftest import EVIL_ACCOUNT, EVIL_RING

LOCAL = "http://127.0.0.1:8765"
TOKEN = "s3cret-token-for-tests"


def client(folder: Path, token: str | None = None, base: str = LOCAL) -> TestClient:
    return TestClient(build_app(make_server(folder, token)), base_url=base)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def assert_inert(html: str) -> None:
    """No hostile markup survives as markup; it is there as escaped text."""
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "onerror=alert" not in html.replace("onerror=alert(1)&gt;", "")


def test_every_page_shows_hostile_values_as_text(fresh_list: Path) -> None:
    web = client(fresh_list)
    pages = ["/", "/?status=all&q=img", "/rings", "/decisions"]
    pages += [
        "/ring/" + EVIL_RING.replace("/", "%2F"),
        "/account/" + EVIL_ACCOUNT.replace("/", "%2F"),
    ]
    for path in pages:
        response = web.get(path)
        assert response.status_code == 200, path
        assert_inert(response.text)
    ring = web.get("/ring/%3Cscript%3Ealert(1)%3C%2Fscript%3E").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in ring
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in ring
    assert "script-src" not in web.get("/").headers["content-security-policy"]  # none allowed


ACCOUNT_PAGE = "/account/" + EVIL_ACCOUNT.replace("/", "%2F")


def test_a_post_without_the_csrf_token_is_refused(fresh_list: Path) -> None:
    server = make_server(fresh_list)
    web, other = (TestClient(build_app(server), base_url=LOCAL) for _ in range(2))
    token = csrf_of(web.get(ACCOUNT_PAGE).text)
    other.get("/")  # another browser, with its own session
    form = dict(scope="account", target=EVIL_ACCOUNT, decision="closed", reviewer="ann")
    assert web.post("/decide", data=form).status_code == 403
    assert web.post("/decide", data={**form, "csrf": "0" * 64}).status_code == 403
    assert other.post("/decide", data={**form, "csrf": token}).status_code == 403
    assert server.store.history().height == 0
    done = web.post("/decide", data={**form, "csrf": token}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/"
    assert server.store.history()["account_id"].to_list() == [EVIL_ACCOUNT]


def test_a_decision_for_something_not_on_the_list_is_refused(fresh_list: Path) -> None:
    web = client(fresh_list)
    token = csrf_of(web.get(ACCOUNT_PAGE).text)
    for target, scope in (("nobody", "account"), ("R999999", "ring"), (EVIL_ACCOUNT, "galaxy")):
        form = dict(scope=scope, target=target, decision="closed", reviewer="ann", csrf=token)
        response = web.post("/decide", data=form)
        assert response.status_code == 400 and "not on this list" in response.text


def test_off_loopback_needs_a_token_and_every_request_carries_it(fresh_list: Path) -> None:
    with pytest.raises(UserError, match="needs --token"):
        check_binding("0.0.0.0", None)
    with pytest.raises(UserError, match="at least"):
        check_binding("0.0.0.0", "short")
    assert check_binding("127.0.0.1", None) is None
    web = client(fresh_list, TOKEN, base="http://10.1.2.3:8765")
    assert web.get("/").status_code == 401
    assert web.get("/rings", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert web.post("/decide", data={"x": "1"}).status_code == 401
    assert web.get("/static/app.css").status_code == 401
    entered = web.get(f"/?token={TOKEN}", follow_redirects=False)
    assert entered.status_code == 303 and "token" not in entered.headers["location"]
    assert web.get("/").status_code == 200  # the cookie set from ?token= carries it now
    bearer = client(fresh_list, TOKEN, base="http://10.1.2.3:8765")
    assert bearer.get("/", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_on_loopback_a_foreign_host_header_is_refused(fresh_list: Path) -> None:
    """A web page that rebinds its own name to 127.0.0.1 cannot read the list."""
    assert client(fresh_list, base="http://evil.example:8765").get("/").status_code == 400
    assert client(fresh_list, base="http://localhost:8765").get("/").status_code == 200


def test_the_queue_filters_and_pages(fresh_list: Path) -> None:
    web = client(fresh_list)
    first = web.get("/?status=all").text
    rows = re.findall(r'<tr[^>]*data-account="([^"]+)"', first)
    assert len(rows) == 50 and re.search(r"page 1 of [23] · \d+ accounts match", first)
    second = re.findall(r'<tr[^>]*data-account="([^"]+)"', web.get("/?status=all&page=2").text)
    assert second and not set(second) & set(rows)
    close = web.get("/?status=all&action=close").text
    assert 'class="badge review"' not in close.split("<tbody>")[1]


def test_feedback_takes_one_source_of_decisions(fresh_list: Path) -> None:
    from typer.testing import CliRunner

    from detection.cli import app

    runner = CliRunner()
    neither = runner.invoke(app, ["feedback"])
    assert neither.exit_code == 2 and "either a decisions CSV or --from-review" in neither.output
    empty = runner.invoke(app, ["feedback", "--from-review", str(fresh_list)])
    assert empty.exit_code == 2 and "no decisions.sqlite" in empty.output
    not_a_list = runner.invoke(app, ["review", str(fresh_list.parent.parent / "data")])
    assert not_a_list.exit_code == 2 and "no finished list" in not_a_list.output
    open_wide = runner.invoke(app, ["review", str(fresh_list), "--host", "0.0.0.0"])
    assert open_wide.exit_code == 2 and "needs --token" in open_wide.output
