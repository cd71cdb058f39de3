// oidc-provider (a certified OpenID Provider) as an RFC 7662 introspection endpoint for
// the Rust test `introspection::oidc_provider`: it listens on 127.0.0.1 with a free port,
// issues opaque access tokens to a client_credentials client, lets the resource server's
// client introspect them, prints `{"issuer": …, "port": …}` as one line on stdout, and
// runs until its stdin closes.
//
// Environment: WORKER_SECRET and RESOURCE_SECRET (the two clients' secrets);
// PASSPORT_TEST_NODE_MODULES, the node_modules to load oidc-provider from (by default the
// one beside this file, where `npm ci` puts it).
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const modules = process.env.PASSPORT_TEST_NODE_MODULES
  ?? path.join(path.dirname(fileURLToPath(import.meta.url)), 'node_modules');
const packageDir = path.join(modules, 'oidc-provider');
const { main } = JSON.parse(await readFile(path.join(packageDir, 'package.json'), 'utf8'));
const { default: Provider } = await import(pathToFileURL(path.join(packageDir, main)).href);

const RESOURCE = 'https://orders.example/';
const server = http.createServer();
await new Promise((resolve) => { server.listen(0, '127.0.0.1', resolve); });
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'worker',
      client_secret: process.env.WORKER_SECRET,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
    },
    {
      // The resource server: it only introspects, with client_secret_basic...
      client_id: 'orders-api',
      client_secret: process.env.RESOURCE_SECRET,
      grant_types: [],
      response_types: [],
      redirect_uris: [],
    },
    {
      // ...or, as this one, with client_secret_post.
      client_id: 'orders-api-post',
      client_secret: process.env.RESOURCE_SECRET,
      token_endpoint_auth_method: 'client_secret_post',
      grant_types: [],
      response_types: [],
      redirect_uris: [],
    },
  ],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'read-orders write-orders',
        audience: 'orders-api',
        accessTokenFormat: 'opaque',
        accessTokenTTL: 3600,
      }),
    },
  },
});
server.on('request', provider.callback());

process.stdout.write(`${JSON.stringify({ issuer, port })}\n`);
process.stdin.resume();
process.stdin.on('end', () => { server.close(); process.exit(0); });
