// A real DPoP client against the issuer and the guard: openid-client (npm) discovers the
// issuer (RFC 8414), gets a DPoP-bound token with the client credentials grant and a DPoP
// proof of its own key (RFC 9449 §5), then calls the protected API with it (§7). Prints one
// JSON line.
//
// PASSPORT_ISSUER: the issuer URL. PASSPORT_CLIENT_ID, PASSPORT_CLIENT_SECRET: a
// confidential client. PASSPORT_API: a URL behind a guard that accepts DPoP.
import * as client from 'openid-client';
import * as jose from 'jose';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const config = await client.discovery(
  new URL(env('PASSPORT_ISSUER')),
  env('PASSPORT_CLIENT_ID'),
  env('PASSPORT_CLIENT_SECRET'),
  undefined,
  { algorithm: 'oauth2', execute: [client.allowInsecureRequests] },
);
const metadata = config.serverMetadata();
const keyPair = await client.randomDPoPKeyPair('ES256');
const jkt = await jose.calculateJwkThumbprint(await jose.exportJWK(keyPair.publicKey), 'sha256');
const dpop = client.getDPoPHandle(config, keyPair);

const tokens = await client.clientCredentialsGrant(config, {}, { DPoP: dpop });
const claims = jose.decodeJwt(tokens.access_token);
const response = await client.fetchProtectedResource(
  config, tokens.access_token, new URL(env('PASSPORT_API')), 'GET', undefined, undefined, { DPoP: dpop },
);
// The same token as a plain bearer token: refused.
const bearer = await fetch(env('PASSPORT_API'), { headers: { authorization: `Bearer ${tokens.access_token}` } });

console.log(JSON.stringify({
  algs: metadata.dpop_signing_alg_values_supported,
  token_type: tokens.token_type,
  jkt,
  cnf: claims.cnf,
  api: { status: response.status, body: await response.text() },
  bearer: { status: bearer.status, challenge: bearer.headers.get('www-authenticate') },
}));
