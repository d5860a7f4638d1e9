// A real OpenID Provider (the `oidc-provider` package) on loopback, for switchyard's browser
// sign-in tests. Started by switchyard-testkit (crates/testkit/src/oidc_provider.rs), which waits
// for the "oidc-provider ready" line.
//
// Configuration: one JSON object in OIDC_TEST_CONFIG:
//   {"port": 1234, "client_id": "...", "client_secret": "...", "redirect_uris": ["..."],
//    "id_token_claims": false}
// - one confidential client (client_secret_basic), authorization code only, PKCE required (S256);
// - the development interactions log in any account id without a password; consent is implied
//   for the client (as for a first-party app), so prompt=none succeeds once signed in;
// - account "<id>": sub "<id>", email "<id>" when it contains "@" (else "<id>@example.com"),
//   email_verified false when the id starts with "unverified", name "Test <id>";
// - id_token_claims false (the package's default): e-mail and name are only at the userinfo
//   endpoint; true puts them in the ID token too.
// The process exits when its standard input closes, so it never outlives the test process.

import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

const config = JSON.parse(process.env.OIDC_TEST_CONFIG ?? '{}');
for (const key of ['port', 'client_id', 'client_secret', 'redirect_uris']) {
  if (config[key] === undefined) {
    console.error(`OIDC_TEST_CONFIG lacks ${key}`);
    process.exit(2);
  }
}
const issuer = `http://127.0.0.1:${config.port}`;

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key-1', use: 'sig', alg: 'RS256' };

function account(id) {
  return {
    accountId: id,
    async claims() {
      return {
        sub: id,
        email: id.includes('@') ? id : `${id}@example.com`,
        email_verified: !id.startsWith('unverified'),
        name: `Test ${id}`,
      };
    },
  };
}

const provider = new Provider(issuer, {
  clients: [{
    client_id: config.client_id,
    client_secret: config.client_secret,
    redirect_uris: config.redirect_uris,
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [signingKey] },
  pkce: { required: () => true },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  conformIdTokenClaims: !config.id_token_claims,
  cookies: { keys: [randomBytes(32).toString('hex')] },
  features: { devInteractions: { enabled: true } },
  findAccount: async (ctx, id) => account(id),
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      return ctx.oidc.provider.Grant.find(grantId);
    }
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
});

const server = createServer(provider.callback());
server.listen(config.port, '127.0.0.1', () => {
  console.log(`oidc-provider ready ${issuer}`);
});
server.on('error', (e) => {
  console.error(`oidc-provider cannot listen on ${issuer}: ${e.message}`);
  process.exit(1);
});

process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
