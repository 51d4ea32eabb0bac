"""The review app: Starlette routes over one list folder and its decisions file.

Security, checked on every request by `guard`:
- bound off the loopback interface, a token is required (refused at start without one) and
  every request must carry it (cookie set from `?token=` once, or `Authorization: Bearer`);
- on loopback without a token, the Host header must name a loopback address (no DNS
  rebinding of a local page by a web site);
- every POST carries a CSRF token tied to the browser's session cookie (HMAC with a secret of
  this server process);
- pages run no script and the Content-Security-Policy forbids inline code; every value from
  the data is escaped (detection.review.html).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from common.errors import UserError
from detection.review import detail, pages
from detection.review.html import CSS, h, page
from detection.review.listing import ReviewList
from detection.review.queue import Filters, filter_queue
from detection.review.store import Decision, DecisionStore

SESSION, TOKEN, REVIEWER = "rw_session", "rw_token", "rw_reviewer"
MAX_FORM = 64 * 1024
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def is_loopback(host: str) -> bool:
    """Whether `host` (an address or 'localhost') is this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass
class ReviewServer:
    """One list being reviewed: its data, its decisions and this process's secrets."""

    data: ReviewList
    store: DecisionStore
    token: str | None = None
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    def csrf(self, session: str) -> str:
        """The CSRF token of a browser session."""
        return hmac.new(self.secret, session.encode(), hashlib.sha256).hexdigest()

    def token_ok(self, request: Request) -> bool:
        """Whether the request carries the access token (always true without one)."""
        if self.token is None:
            return True
        given = request.query_params.get("token") or request.cookies.get(TOKEN) or ""
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            given = auth[7:]
        return hmac.compare_digest(given.encode(), self.token.encode())

    def subtitle(self) -> str:
        """The page header's line: which list, which model."""
        model = self.data.manifest.get("model", {})
        return (
            f"list of {self.data.as_of[:10]} · {self.data.folder} · model {model.get('name')} "
            f"version {model.get('version')}"
        )


def secure(response: Response) -> Response:
    """Add the security headers to a response."""
    for key, value in HEADERS.items():
        response.headers.setdefault(key, value)
    return response


def guard(server: ReviewServer):  # -> ASGI middleware class
    """An ASGI middleware that checks host and token and sets the session cookie."""

    class Guard:
        def __init__(self, app) -> None:
            self.app = app

        async def __call__(self, scope, receive, send) -> None:
            if scope["type"] != "http":
                return await self.app(scope, receive, send)
            request = Request(scope)
            host = urlsplit(f"//{request.headers.get('host', '')}").hostname or ""
            if server.token is None and not is_loopback(host):
                refused = PlainTextResponse("refused: unexpected Host header", status_code=400)
                return await secure(refused)(scope, receive, send)
            if not server.token_ok(request):
                refused = PlainTextResponse("refused: a valid token is required", status_code=401)
                return await secure(refused)(scope, receive, send)
            if server.token and request.query_params.get("token"):
                moved = RedirectResponse(request.url.path, status_code=303)
                moved.set_cookie(TOKEN, server.token, httponly=True, samesite="strict")
                return await secure(moved)(scope, receive, send)
            session = request.cookies.get(SESSION)
            if not session:
                session = secrets.token_urlsafe(24)
                scope.setdefault("state", {})["new_session"] = session
            scope.setdefault("state", {})["session"] = session

            async def send_secure(message) -> None:
                if message["type"] == "http.response.start":
                    headers = list(message.get("headers", []))
                    present = {k.lower() for k, _ in headers}
                    for key, value in HEADERS.items():
                        if key.lower().encode() not in present:
                            headers.append((key.lower().encode(), value.encode()))
                    if "new_session" in scope["state"]:
                        cookie = f"{SESSION}={session}; HttpOnly; SameSite=Strict; Path=/"
                        headers.append((b"set-cookie", cookie.encode()))
                    message = {**message, "headers": headers}
                await send(message)

            return await self.app(scope, receive, send_secure)

    return Guard


def build_app(server: ReviewServer) -> Starlette:
    """The Starlette app of one review server."""

    def ctx(request: Request) -> tuple[str, str]:
        session = request.state.session
        return server.csrf(session), request.cookies.get(REVIEWER, "")

    async def queue(request: Request) -> Response:
        f = Filters.parse(dict(request.query_params))
        latest = server.store.latest()
        matching = filter_queue(server.data.candidates, latest, f)
        html = pages.queue_page(server.data.candidates, latest, matching, f, server.subtitle())
        return HTMLResponse(html)

    async def rings(request: Request) -> Response:
        latest = server.store.latest()
        html = pages.rings_page(
            server.data.rings, server.data.candidates, latest, server.subtitle()
        )
        return HTMLResponse(html)

    async def decisions(request: Request) -> Response:
        return HTMLResponse(pages.decisions_page(server.store.history(), server.subtitle()))

    async def ring(request: Request) -> Response:
        found = server.data.ring(request.path_params["ring_id"])
        if found is None:
            return not_found("no such ring on this list")
        csrf, who = ctx(request)
        return HTMLResponse(detail.ring_page(server.data, found, server.store.latest(), csrf, who))

    async def account(request: Request) -> Response:
        aid = request.path_params["account_id"]
        found = server.data.account(aid)
        if found is None:
            return not_found("no such account on this list")
        csrf, who = ctx(request)
        history = server.store.history(aid)
        return HTMLResponse(detail.account_page(server.data, found, history, csrf, who))

    async def decide(request: Request) -> Response:
        try:
            form = await read_form(request)
        except UserError as error:
            return PlainTextResponse(f"refused: {error}", status_code=413)
        given = str(form.get("csrf", ""))
        if not hmac.compare_digest(given.encode(), server.csrf(request.state.session).encode()):
            return PlainTextResponse("refused: missing or wrong CSRF token", status_code=403)
        try:
            decision = parse_decision(server.data, form)
            server.store.record(decision)
        except UserError as error:
            return HTMLResponse(page("Not recorded", f'<p class="error">{h(error)}</p>'), 400)
        back = str(form.get("back", "/"))
        back = back if back.startswith("/") and not back.startswith("//") else "/"
        done = RedirectResponse(back, status_code=303)
        done.set_cookie(REVIEWER, decision.reviewer, httponly=True, samesite="strict")
        return done

    async def css(request: Request) -> Response:
        return Response(CSS, media_type="text/css")

    routes = [
        Route("/", queue),
        Route("/rings", rings),
        Route("/decisions", decisions),
        Route("/ring/{ring_id:path}", ring),
        Route("/account/{account_id:path}", account),
        Route("/decide", decide, methods=["POST"]),
        Route("/static/app.css", css),
    ]
    return Starlette(routes=routes, middleware=[_middleware(guard(server))])


def _middleware(cls):  # -> starlette.middleware.Middleware
    """Wrap a pure ASGI middleware class for Starlette."""
    from starlette.middleware import Middleware

    return Middleware(cls)


async def read_form(request: Request) -> dict[str, str]:
    """A URL-encoded form body (what a plain HTML form posts), at most MAX_FORM bytes."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM:
            raise UserError("form too large")
    fields = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {key: values[-1] for key, values in fields.items()}


def not_found(text: str) -> Response:
    """A 404 page."""
    return HTMLResponse(page("Not found", f'<p class="error">{h(text)}</p>'), status_code=404)


def parse_decision(data: ReviewList, form: dict[str, str]) -> Decision:
    """The Decision a form asks for; the target must be on this list (UserError otherwise)."""
    scope, target = str(form.get("scope", "")), str(form.get("target", ""))
    verb = str(form.get("decision", ""))
    reviewer, note = str(form.get("reviewer", "")), str(form.get("note", ""))
    if scope == "ring":
        ring = data.ring(target)
        if ring is None:
            raise UserError(f"ring {target!r} is not on this list")
        accounts = tuple(ring["members"])
        return Decision(accounts, verb, reviewer, note, ring_id=target).check()
    if scope != "account" or data.account(target) is None:
        raise UserError(f"account {target!r} is not on this list")
    return Decision((target,), verb, reviewer, note).check()
