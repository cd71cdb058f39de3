// The device authorization grant (RFC 8628) by openid-client: discovery of the RFC 8414
// metadata, initiateDeviceAuthorization, then pollDeviceAuthorizationGrant until the user
// approves. The user's part is played here through the verification page's own HTML forms
// (GET verification_uri_complete, POST the approval form), signed in by the header the test's
// sign-in hook reads. Prints one JSON line: what the device got.
//
// Environment: PASSPORT_ISSUER (the issuer URL), PASSPORT_CLIENT_ID (a public client with the
// device grant), PASSPORT_USER_HEADER and PASSPORT_USER (the fake session), PASSPORT_SCOPE.
import * as client from 'openid-client';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const issuer = new URL(env('PASSPORT_ISSUER'));
const config = await client.discovery(issuer, env('PASSPORT_CLIENT_ID'), undefined, client.None(), {
  algorithm: 'oauth2',
  execute: [client.allowInsecureRequests],
});
const started = await client.initiateDeviceAuthorization(config, { scope: env('PASSPORT_SCOPE') });
for (const field of ['device_code', 'user_code', 'verification_uri', 'verification_uri_complete']) {
  if (typeof started[field] !== 'string') throw new Error(`no ${field} in ${JSON.stringify(Object.keys(started))}`);
}

// The user: open the complete URI, signed in, and approve on the screen.
const session = { [env('PASSPORT_USER_HEADER')]: env('PASSPORT_USER') };
const screen = await fetch(started.verification_uri_complete, { headers: session });
if (screen.status !== 200) throw new Error(`the approval screen answered ${screen.status}`);
const page = await screen.text();
const firstForm = page.split('</form>')[0];
const action = /<form method="post" action="([^"]+)"/.exec(firstForm)?.[1];
if (!action) throw new Error('no approval form on the screen');
const fields = new URLSearchParams();
for (const [, name, value] of firstForm.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
  fields.append(name, value.replaceAll('&amp;', '&'));
}
const approved = await fetch(new URL(action, issuer), {
  method: 'POST',
  headers: { ...session, 'content-type': 'application/x-www-form-urlencoded' },
  body: fields,
});
if (approved.status !== 200) throw new Error(`the approval answered ${approved.status}`);

const tokens = await client.pollDeviceAuthorizationGrant(config, started);
console.log(JSON.stringify({
  user_code: started.user_code,
  interval: started.interval,
  access_token: tokens.access_token,
  refresh_token: tokens.refresh_token ?? null,
  token_type: tokens.token_type,
  scope: tokens.scope ?? null,
}));
