// An independent implementation's DPoP against the guard: jose (npm) mints an access token
// bound to a key it generates (cnf.jkt, RFC 9449 §6.1) with the issuer key the test hands
// it, and signs each request's proof with that key (§4.2). Prints one JSON line of what the
// API answered to each request.
//
// PASSPORT_API: the protected URL. PASSPORT_ISSUER, PASSPORT_AUDIENCE: the token's iss and
// aud. PASSPORT_ISSUER_KEY, PASSPORT_ISSUER_KID: the issuer's ES256 private key (PKCS#8 PEM)
// and its kid.
import * as jose from 'jose';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const api = env('PASSPORT_API');
const issuerKey = await jose.importPKCS8(env('PASSPORT_ISSUER_KEY'), 'ES256');

const { publicKey, privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
const jwk = await jose.exportJWK(publicKey);
const jkt = await jose.calculateJwkThumbprint(jwk, 'sha256');

const token = await new jose.SignJWT({ scope: 'orders', client_id: 'node-client', cnf: { jkt } })
  .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: env('PASSPORT_ISSUER_KID') })
  .setIssuer(env('PASSPORT_ISSUER'))
  .setAudience(env('PASSPORT_AUDIENCE'))
  .setSubject('42')
  .setIssuedAt()
  .setExpirationTime('5m')
  .setJti(crypto.randomUUID())
  .sign(issuerKey);
const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token));
const ath = jose.base64url.encode(new Uint8Array(digest));

const proof = (htm, htu, key = privateKey, publicJwk = jwk) =>
  new jose.SignJWT({ htm, htu, ath })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: publicJwk })
    .setIssuedAt()
    .setJti(crypto.randomUUID())
    .sign(key);

const call = async (scheme, dpop) => {
  const headers = { authorization: `${scheme} ${token}` };
  if (dpop) headers.dpop = dpop;
  const response = await fetch(api, { headers });
  return { status: response.status, challenge: response.headers.get('www-authenticate'), body: await response.text() };
};

const first = await proof('GET', api);
const ok = await call('DPoP', first);
const again = await call('DPoP', await proof('GET', `${api}?page=2`));
const replay = await call('DPoP', first);
const bearer = await call('Bearer');
const wrongUrl = await call('DPoP', await proof('GET', `${api}/elsewhere`));
const wrongMethod = await call('DPoP', await proof('POST', api));
const other = await jose.generateKeyPair('ES256', { extractable: true });
const otherKey = await call('DPoP', await proof('GET', api, other.privateKey, await jose.exportJWK(other.publicKey)));

console.log(JSON.stringify({ jkt, ok, again, replay, bearer, wrongUrl, wrongMethod, otherKey }));
