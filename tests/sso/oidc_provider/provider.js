// A real OpenID Connect provider (panva/oidc-provider) for tests/sso/test_oidc.py.
// Started by the `oidc_issuer` fixture: PORT, REDIRECT_URI, CLIENT_ID and CLIENT_SECRET come from the
// environment. The interaction signs in the account named by ?account= on the interaction URL
// (default "alice") without a form, and consent is granted for the requested scopes, so a test can
// drive the whole authorization-code flow with plain HTTP requests.
import http from 'node:http';
import { URL } from 'node:url';

import Provider from 'oidc-provider';

const port = Number(process.env.PORT || 0);
const issuer = `http://127.0.0.1:${port}`;

const ACCOUNTS = {
  alice: { email: 'alice@example.com', email_verified: true, phone_number: '+86 138 0013 8000', phone_number_verified: true, name: 'Alice Zhang' },
  bob: { email: 'bob@example.com', email_verified: true, name: 'Bob Li' },
  eve: { email: 'admin@example.com', email_verified: false, name: 'Eve' },
  newcomer: { email: 'newcomer@example.com', email_verified: true, name: '新员工' },
};

const configuration = {
  clients: [{
    client_id: process.env.CLIENT_ID || 'supervision',
    client_secret: process.env.CLIENT_SECRET || 'test-secret',
    redirect_uris: [process.env.REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  pkce: { methods: ['S256'], required: () => true },
  claims: {
    openid: ['sub'],
    profile: ['name'],
    email: ['email', 'email_verified'],
    phone: ['phone_number', 'phone_number_verified'],
  },
  // Claims in the ID token too (not only at the userinfo endpoint), as many company IdPs do.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: false } },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(_ctx, sub) {
    const claims = ACCOUNTS[sub];
    if (!claims) return undefined;
    return { accountId: sub, async claims() { return { sub, ...claims }; } };
  },
  async loadExistingGrant(ctx) {
    // Consent is implied: every requested scope and claim is granted.
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope(ctx.oidc.params.scope || 'openid');
    await grant.save();
    return grant;
  },
  cookies: { keys: ['test-only-cookie-key'] },
  ttl: { Interaction: 600, Session: 600, Grant: 600, AuthorizationCode: 60, AccessToken: 600, IdToken: 600 },
};

const provider = new Provider(issuer, configuration);
const callback = provider.callback();

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, issuer);
  if (url.pathname.startsWith('/interaction/')) {
    try {
      await provider.interactionDetails(req, res);
      const account = url.searchParams.get('account') || 'alice';
      await provider.interactionFinished(req, res, { login: { accountId: account } }, { mergeWithLastSubmission: false });
    } catch (err) {
      res.statusCode = 400;
      res.end(String(err));
    }
    return;
  }
  callback(req, res);
});

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${issuer}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
