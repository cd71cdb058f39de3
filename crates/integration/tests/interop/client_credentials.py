"""authlib (OAuth2Session over requests) against the issuer: metadata discovery, the client
credentials grant with client_secret_basic and with client_secret_post, a bearer call to a
guarded API, introspection, and revocation. Run by tests/interop_python.rs.

Inputs: PASSPORT_ISSUER, PASSPORT_CLIENT_ID, PASSPORT_CLIENT_SECRET, PASSPORT_SCOPE,
PASSPORT_API (a URL the guard protects). Output: one JSON object (see `emit` below).
"""

from authlib.integrations.requests_client import OAuth2Session

from passport_interop import Recorder, check, emit, env, metadata

issuer = env("PASSPORT_ISSUER")
client_id = env("PASSPORT_CLIENT_ID")
client_secret = env("PASSPORT_CLIENT_SECRET")
scope = env("PASSPORT_SCOPE")
api = env("PASSPORT_API")

# (a) RFC 8414 discovery: every endpoint used below comes from the metadata.
document, metadata_errors = metadata(issuer)
for member in ("token_endpoint", "introspection_endpoint", "revocation_endpoint"):
    check(document.get(member, "").startswith(issuer + "/"), f"{member}: {document.get(member)!r}")
check(
    "client_credentials" in document.get("grant_types_supported", []),
    f"grant_types_supported: {document.get('grant_types_supported')}",
)


def session_for(method):
    session = OAuth2Session(
        client_id,
        client_secret,
        scope=scope,
        token_endpoint_auth_method=method,
        revocation_endpoint_auth_method=method,
    )
    check(method in document["token_endpoint_auth_methods_supported"], f"{method} not advertised")
    return session, Recorder(session)


def token_with(method):
    """(b), (c): a client-credentials token, authenticating with `method`."""
    session, recorder = session_for(method)
    token = session.fetch_token(document["token_endpoint"], grant_type="client_credentials")
    sent = recorder.last()
    if method == "client_secret_basic":
        check(sent["authorization"] == "Basic", f"basic auth was not used: {sent}")
        check(not sent["body_has_client_secret"], f"the secret was also posted: {sent}")
    else:
        check(sent["authorization"] == "", f"an Authorization header was sent: {sent}")
        check(sent["body_has_client_secret"], f"the secret was not posted: {sent}")
    check(str(token.get("token_type", "")).lower() == "bearer", f"token_type: {token.get('token_type')}")
    check(token.get("access_token", "").count(".") == 2, "the access token is not a compact JWS")
    check(isinstance(token.get("expires_in"), int) and token["expires_in"] > 0, f"expires_in: {token}")
    check(token.get("expires_at", 0) > 0, "authlib computed no expires_at")
    check(sorted(token.get("scope", "").split()) == sorted(scope.split()), f"scope: {token.get('scope')}")
    check("refresh_token" not in token, "the client credentials grant issued a refresh token")
    # The token works on the guarded API, sent by authlib as a bearer header.
    me = session.get(api, timeout=10)
    check(me.status_code == 200, f"GET {api} with the token: {me.status_code} {me.text}")
    return session, recorder, dict(token), me.json()


basic, basic_recorder, basic_token, basic_me = token_with("client_secret_basic")
post, post_recorder, post_token, post_me = token_with("client_secret_post")


def introspect(session, token):
    """(d) RFC 7662 introspection, authenticating as the session does."""
    response = session.introspect_token(
        document["introspection_endpoint"], token=token, token_type_hint="access_token"
    )
    check(response.status_code == 200, f"introspection: {response.status_code} {response.text}")
    return response.json()


introspected = introspect(basic, basic_token["access_token"])
check(introspected.get("active") is True, f"introspection of a fresh token: {introspected}")
check(introspected.get("client_id") == client_id, f"introspected client_id: {introspected}")
# The other authentication method at the introspection endpoint.
introspected_by_post = introspect(post, post_token["access_token"])
check(introspected_by_post.get("active") is True, f"introspection via post: {introspected_by_post}")


def revoke(session, recorder, token, method):
    """(e) RFC 7009 revocation; afterwards the token is inactive and the API refuses it."""
    response = session.revoke_token(
        document["revocation_endpoint"], token=token["access_token"], token_type_hint="access_token"
    )
    check(response.status_code == 200, f"revocation: {response.status_code} {response.text}")
    sent = recorder.last()
    check(
        (sent["authorization"] == "Basic") == (method == "client_secret_basic"),
        f"revocation did not authenticate with {method}: {sent}",
    )
    after = introspect(session, token["access_token"])
    check(after == {"active": False}, f"introspection after revocation: {after}")
    refused = session.get(api, timeout=10)
    check(refused.status_code == 401, f"GET {api} after revocation: {refused.status_code}")
    return {
        "status": response.status_code,
        "introspection_after": after,
        "api_after": refused.status_code,
        "api_after_challenge": refused.headers.get("WWW-Authenticate", ""),
    }


revoked_basic = revoke(basic, basic_recorder, basic_token, "client_secret_basic")
revoked_post = revoke(post, post_recorder, post_token, "client_secret_post")

emit(
    {
        "metadata": document,
        "metadata_errors": metadata_errors,
        "basic": {"token": basic_token, "api": basic_me, "requests": basic_recorder.requests},
        "post": {"token": post_token, "api": post_me, "requests": post_recorder.requests},
        "introspection": introspected,
        "revocation": {"basic": revoked_basic, "post": revoked_post},
    }
)
