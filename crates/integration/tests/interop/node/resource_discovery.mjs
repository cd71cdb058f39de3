// RFC 9728 discovery by oauth4webapi: starting from the API's URL alone, a 401's
// challenge names the protected-resource metadata, which names the authorization server,
// whose RFC 8414 metadata names the token endpoint; a client-credentials token for the
// API's `resource` (RFC 8707) then opens the API. Run by tests/issuer/resource_discovery.rs
// (support/node.rs runs it beside the pinned packages) with PASSPORT_API, PASSPORT_CLIENT_ID
// and PASSPORT_CLIENT_SECRET; prints
// one JSON line with what it found.
import * as oauth from 'oauth4webapi';

const api = new URL(process.env.PASSPORT_API);
const client = { client_id: process.env.PASSPORT_CLIENT_ID };
const auth = oauth.ClientSecretPost(process.env.PASSPORT_CLIENT_SECRET);
// Loopback http: the test servers have no TLS.
const insecure = { [oauth.allowInsecureRequests]: true };
const fail = (message) => {
  throw new Error(message);
};

// 1. The API without a usable token: oauth4webapi parses the challenge.
let challenge;
try {
  await oauth.protectedResourceRequest('not-a-token', 'GET', new URL('/orders', api), undefined, undefined, insecure);
  fail('the API answered a bogus token');
} catch (error) {
  if (!(error instanceof oauth.WWWAuthenticateChallengeError)) throw error;
  challenge = error.cause.find((c) => c.scheme === 'bearer') ?? fail('no Bearer challenge');
}
const resourceMetadata = challenge.parameters.resource_metadata ?? fail('no resource_metadata');

// 2. RFC 9728: the metadata, checked to be the API's own (§3.3).
const resourceResponse = await oauth.resourceDiscoveryRequest(api, insecure);
if (resourceResponse.url !== resourceMetadata) fail(`fetched ${resourceResponse.url}, challenge named ${resourceMetadata}`);
const resource = await oauth.processResourceDiscoveryResponse(api, resourceResponse);
const issuer = new URL(resource.authorization_servers?.[0] ?? fail('no authorization server'));

// 3. RFC 8414: the authorization server's metadata, its issuer checked.
const as = await oauth.processDiscoveryResponse(
  issuer,
  await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }),
);

// 4. A token for the API's resource identifier.
const parameters = new URLSearchParams({ resource: resource.resource, scope: resource.scopes_supported.join(' ') });
const tokens = await oauth.processClientCredentialsResponse(
  as,
  client,
  await oauth.clientCredentialsGrantRequest(as, client, auth, parameters, insecure),
);
const payload = JSON.parse(Buffer.from(tokens.access_token.split('.')[1], 'base64url').toString());

// 5. The API, with it.
const response = await oauth.protectedResourceRequest(
  tokens.access_token,
  'GET',
  new URL('/orders', api),
  undefined,
  undefined,
  insecure,
);
console.log(
  JSON.stringify({
    issuer: as.issuer,
    resource_metadata: resourceMetadata,
    audience: payload.aud,
    status: response.status,
    body: await response.json(),
  }),
);
