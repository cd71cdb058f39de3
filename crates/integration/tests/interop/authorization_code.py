"""authlib (OAuth2Session over requests) performs the authorization code grant with PKCE
(S256) and the RFC 9207 `iss` check against the quickstart app. The metadata drives it;
a second requests session plays the user's browser, posting the sign-in form and the
approval screen's Approve form with the hidden fields read from their HTML. Then authlib
parses the callback (state), the script checks `iss`, authlib exchanges the code with its
code_verifier, the token calls the API, and authlib refreshes it. Run by
tests/interop_python.rs.

Inputs: PASSPORT_ISSUER, PASSPORT_CLIENT_ID, PASSPORT_CLIENT_SECRET, PASSPORT_REDIRECT_URI,
PASSPORT_SCOPE, PASSPORT_USERNAME, PASSPORT_PASSWORD, PASSPORT_API (a URL the guard
protects). Output: one JSON object (see `emit` below).
"""

from urllib.parse import parse_qs, urljoin, urlparse

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc6749.errors import MismatchingStateException
from authlib.oauth2.rfc6749.parameters import parse_authorization_code_response
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from authlib.oauth2 import rfc9207

from passport_interop import TIMEOUT, Recorder, check, emit, env, forms, metadata

issuer = env("PASSPORT_ISSUER")
client_id = env("PASSPORT_CLIENT_ID")
client_secret = env("PASSPORT_CLIENT_SECRET")
redirect_uri = env("PASSPORT_REDIRECT_URI")
scope = env("PASSPORT_SCOPE")
username = env("PASSPORT_USERNAME")
password = env("PASSPORT_PASSWORD")
api = env("PASSPORT_API")

# (a) Discovery: authlib's RFC 8414 validators accept every member, and RFC 9207's too.
document, metadata_errors = metadata(issuer)
check(not metadata_errors, f"authlib's metadata validators refused: {metadata_errors}")
AuthorizationServerMetadata(document).validate(metadata_classes=[rfc9207.AuthorizationServerMetadata])
check(document.get("authorization_endpoint") == issuer + "/oauth/authorize", f"{document}")
check(document.get("response_types_supported") == ["code"], f"{document.get('response_types_supported')}")
check("authorization_code" in document.get("grant_types_supported", []), "no authorization_code grant")
check(document.get("code_challenge_methods_supported") == ["S256"], "S256 only")
check(document.get("authorization_response_iss_parameter_supported") is True, "no RFC 9207 iss")

# (b) authlib builds the authorization URL, with a fresh state and an S256 challenge.
client = OAuth2Session(
    client_id,
    client_secret,
    scope=scope,
    redirect_uri=redirect_uri,
    code_challenge_method="S256",
    token_endpoint_auth_method="client_secret_basic",
)
recorder = Recorder(client)
code_verifier = generate_token(64)
authorization_url, state = client.create_authorization_url(
    document["authorization_endpoint"], code_verifier=code_verifier
)
sent = {name: values[0] for name, values in parse_qs(urlparse(authorization_url).query).items()}
check(sent.get("response_type") == "code", f"{sent}")
check(sent.get("code_challenge_method") == "S256", f"{sent}")
check(sent.get("code_challenge") == create_s256_code_challenge(code_verifier), f"{sent}")
check(sent.get("state") == state and len(state) >= 20, f"{sent}")

# (c) The user's browser: sent to the sign-in page, signs in, comes back to the request.
browser = requests.Session()


def get(url):
    response = browser.get(url, allow_redirects=False, timeout=TIMEOUT)
    return response, urljoin(url, response.headers.get("Location", ""))


response, sign_in_url = get(authorization_url)
check(response.status_code == 302, f"the request without a session: {response.status_code}")
check(sign_in_url.startswith(issuer + "/login?next="), f"sent to sign in at {sign_in_url}")
response, _ = get(sign_in_url)
check(response.status_code == 200, f"GET the sign-in page: {response.status_code}")
(sign_in_form,) = forms(response.text)
check(sign_in_form["method"] == "post", f"{sign_in_form}")
fields = dict(sign_in_form["fields"], username=username, password=password)
check(fields.get("next") == authorization_url, f"next is the authorization request: {fields.get('next')}")
response = browser.post(urljoin(sign_in_url, sign_in_form["action"]), data=fields, allow_redirects=False, timeout=TIMEOUT)
check(response.status_code == 303, f"POST the sign-in form: {response.status_code} {response.text[:200]}")
back = urljoin(sign_in_url, response.headers["Location"])
check(back == authorization_url, f"signed in, back to the request: {back}")

# (d) The approval screen, and its Approve form, posted as the browser would.
response, _ = get(back)
check(response.status_code == 200, f"the approval screen: {response.status_code}")
check(response.headers.get("Cache-Control") == "no-store", f"{response.headers}")
screen = response.text
approve = [form for form in forms(screen) if form["fields"].get("decision") == "approve"]
check(len(approve) == 1, f"one Approve form: {forms(screen)}")
approve = approve[0]
check(approve["fields"].get("csrf_token"), "the Approve form carries a CSRF token")
check(approve["fields"].get("state") == state, "the form carries the request's state")
response = browser.post(urljoin(back, approve["action"]), data=approve["fields"], allow_redirects=False, timeout=TIMEOUT)
check(response.status_code == 303, f"POST Approve: {response.status_code} {response.text[:200]}")
callback = response.headers["Location"]
check(callback.startswith(redirect_uri + "?"), f"back to the client: {callback}")

# (e) authlib parses the callback and checks state; a wrong state is refused.
params = parse_authorization_code_response(callback, state=state)
try:
    parse_authorization_code_response(callback, state="not-the-state-we-sent")
    check(False, "authlib accepted a callback with another state")
except MismatchingStateException:
    pass
# RFC 9207 §2.4: the client compares iss with the issuer it sent the request to.
check(params.get("iss") == document["issuer"], f"iss {params.get('iss')!r} != {document['issuer']!r}")

# (f) authlib exchanges the code with its code_verifier (client_secret_basic).
token = client.fetch_token(
    document["token_endpoint"], authorization_response=callback, code_verifier=code_verifier
)
exchange = recorder.last()
check(exchange["authorization"] == "Basic", f"the exchange authenticated: {exchange}")
check(token.get("token_type", "").lower() == "bearer", f"{token}")
check(sorted(token.get("scope", "").split()) == sorted(scope.split()), f"scope: {token.get('scope')}")
check(token.get("refresh_token"), "a refresh token")
me = client.get(api, timeout=TIMEOUT)
check(me.status_code == 200, f"GET {api}: {me.status_code} {me.text}")
first = {"token": dict(token), "api": me.json()}

# The same code again is refused (and revokes what it issued).
again = requests.post(
    document["token_endpoint"],
    data={"grant_type": "authorization_code", "code": params["code"], "redirect_uri": redirect_uri, "code_verifier": code_verifier},
    auth=(client_id, client_secret),
    timeout=TIMEOUT,
)
check(again.status_code == 400 and again.json().get("error") == "invalid_grant", f"reuse: {again.text}")
revoked = client.get(api, timeout=TIMEOUT)
check(revoked.status_code == 401, f"the reused code's token still works: {revoked.status_code}")

# (g) Revoking what the code issued withdrew the consent, so a second round shows the
# screen again; approve, exchange, and authlib refreshes: a new pair, the old refresh token
# rotated out.
code_verifier = generate_token(64)
authorization_url, state = client.create_authorization_url(
    document["authorization_endpoint"], code_verifier=code_verifier
)
response, _ = get(authorization_url)
check(response.status_code == 200, f"the screen again: {response.status_code}")
(approve,) = [form for form in forms(response.text) if form["fields"].get("decision") == "approve"]
response = browser.post(urljoin(authorization_url, approve["action"]), data=approve["fields"], allow_redirects=False, timeout=TIMEOUT)
check(response.status_code == 303, f"POST Approve: {response.status_code}")
callback = response.headers["Location"]
check(parse_authorization_code_response(callback, state=state).get("iss") == issuer, "iss")
token = client.fetch_token(
    document["token_endpoint"], authorization_response=callback, code_verifier=code_verifier
)
old_refresh = token["refresh_token"]
refreshed = client.refresh_token(document["token_endpoint"], refresh_token=old_refresh)
check(recorder.last()["authorization"] == "Basic", "the refresh authenticated")
check(refreshed.get("refresh_token") and refreshed["refresh_token"] != old_refresh, "rotated")
check(refreshed["access_token"] != token["access_token"], "a new access token")
me = client.get(api, timeout=TIMEOUT)
check(me.status_code == 200, f"GET {api} with the refreshed token: {me.status_code}")

# (h) With live tokens for these scopes, a third round skips the screen.
code_verifier = generate_token(64)
authorization_url, state = client.create_authorization_url(
    document["authorization_endpoint"], code_verifier=code_verifier
)
response, callback = get(authorization_url)
check(response.status_code == 302 and callback.startswith(redirect_uri + "?"), f"no screen: {response.status_code}")
third = parse_authorization_code_response(callback, state=state)
check(third.get("iss") == issuer, f"iss: {third}")
third_token = client.fetch_token(
    document["token_endpoint"], authorization_response=callback, code_verifier=code_verifier
)
check(third_token.get("access_token"), "the third code was exchanged")

emit(
    {
        "metadata": document,
        "authorization_request": sent,
        "callback": params,
        "first": first,
        "second": {"token": dict(token), "refreshed": dict(refreshed), "api": me.json()},
        "third": {"callback": third, "token": dict(third_token)},
        "requests": recorder.requests,
    }
)
