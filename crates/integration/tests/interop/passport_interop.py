"""Helpers shared by the interop scripts, which tests/support/python.rs runs.

The contract with the Rust side: inputs come in environment variables (`env`), every step
is asserted here (`check`, which exits non-zero with a message on stderr), and the results
the Rust test checks again are printed as one JSON object on the last line of stdout
(`emit`).
"""

import json
import os
import sys
from html.parser import HTMLParser

import requests
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata

TIMEOUT = 10  # seconds, for every HTTP call: the server is on loopback


def env(name):
    value = os.environ.get(name)
    if not value:
        fail(f"{name} is not set")
    return value


def fail(message):
    print(f"interop check failed: {message}", file=sys.stderr)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def emit(result):
    print(json.dumps(result, sort_keys=True))


def metadata(issuer):
    """Fetches the RFC 8414 metadata and runs authlib's validator on every member.

    Returns the document and a {member: error} map of what authlib's validators refused
    (each `validate_<member>` is run on its own, so one refusal does not hide the others).
    """
    url = issuer.rstrip("/") + "/.well-known/oauth-authorization-server"
    response = requests.get(url, timeout=TIMEOUT)
    check(response.status_code == 200, f"GET {url}: {response.status_code}")
    check(
        response.headers.get("content-type", "").startswith("application/json"),
        f"metadata content-type: {response.headers.get('content-type')}",
    )
    document = response.json()
    check(document.get("issuer") == issuer, f"issuer {document.get('issuer')!r} != {issuer!r}")
    parsed = AuthorizationServerMetadata(document)
    errors = {}
    for name in sorted(dir(parsed)):
        if name.startswith("validate_") and callable(getattr(parsed, name)):
            try:
                getattr(parsed, name)()
            except ValueError as error:
                errors[name.removeprefix("validate_")] = str(error)
    return document, errors


class Recorder:
    """Records how each request a requests session sent authenticated (as a response hook)."""

    def __init__(self, session):
        self.requests = []
        session.hooks["response"].append(self._record)

    def _record(self, response, *args, **kwargs):
        request = response.request
        body = request.body or ""
        if isinstance(body, bytes):
            body = body.decode()
        self.requests.append(
            {
                "url": request.url,
                "status": response.status_code,
                "authorization": (request.headers.get("Authorization") or "").split(" ")[0],
                "body_has_client_secret": "client_secret=" in body,
            }
        )

    def last(self):
        check(self.requests, "no request was recorded")
        return self.requests[-1]


class _Forms(HTMLParser):
    """Collects each <form>: its method, action and the name/value of its inputs."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append(
                {"method": (attrs.get("method") or "get").lower(), "action": attrs.get("action") or "", "fields": {}}
            )
        elif tag == "input" and self.forms and attrs.get("name"):
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value") or ""


def forms(page):
    """The forms of an HTML page, as a browser would submit them (values unescaped)."""
    parser = _Forms()
    parser.feed(page)
    return parser.forms
