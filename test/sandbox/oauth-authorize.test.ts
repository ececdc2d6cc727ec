import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox } from '../../src/sandbox/sandbox.js';
import type { RunningSandbox } from '../../src/sandbox/sandbox.js';
import { http, OOB, password, rest, withQuery } from './helpers.js';

describe('oauth2/authorize', () => {
  let sandbox: RunningSandbox;
  let authorizeUrl: string;
  beforeAll(async () => {
    sandbox = await startSandbox();
    authorizeUrl = rest(sandbox, '/oauth2/authorize');
  });
  afterAll(() => sandbox.close());

  const query = (extra: Record<string, string> = {}): Record<string, string> => ({
    client_id: sandbox.info.clientId,
    response_type: 'code',
    redirect_uri: OOB,
    ...extra,
  });

  it('shows a plain HTML POST form with username and password inputs and hidden parameters', async () => {
    const res = await http(
      withQuery(
        authorizeUrl,
        query({
          state: '{"a":1}',
          code_challenge: 'x'.repeat(43),
          code_challenge_method: 'S256',
          expiration: '20160',
        }),
      ),
    );
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toMatch(/<form method="POST"/);
    expect(res.text).toContain('name="username"');
    expect(res.text).toContain('name="password"');
    expect(res.text).toContain('name="state" value="{&quot;a&quot;:1}"');
    expect(res.text).toContain('name="code_challenge_method" value="S256"');
    expect(res.text).toContain('name="expiration" value="20160"');
    // No external resources.
    expect(res.text).not.toMatch(/(src|href)="https?:/);
  });

  it('refuses an unknown client_id with an error page, never a redirect', async () => {
    const res = await http(
      withQuery(authorizeUrl, query({ client_id: 'nope', redirect_uri: 'http://127.0.0.1:9/callback' })),
    );
    expect(res.status).toBe(400);
    expect(res.headers.location).toBeUndefined();
    expect(res.text).toContain('Invalid client_id');
  });

  it('refuses a redirect_uri with another path, host or scheme', async () => {
    for (const redirect of [
      'http://127.0.0.1:4567/other',
      'http://127.0.0.1:4567/callback/',
      'http://127.0.0.1:4567/callback?x=1',
      'http://evil.example/callback',
      'https://127.0.0.1/callback',
      'http://127.0.0.1:4567/callback/../callback',
    ]) {
      const res = await http(withQuery(authorizeUrl, query({ redirect_uri: redirect })));
      expect(res.status, redirect).toBe(400);
      expect(res.headers.location, redirect).toBeUndefined();
      expect(res.text).toContain('Invalid redirect_uri');
    }
  });

  it('accepts any port on the loopback redirect (RFC 8252 §7.3)', async () => {
    for (const redirect of [
      'http://127.0.0.1:4567/callback',
      'http://127.0.0.1:61000/callback',
      'http://localhost:8080/callback',
    ]) {
      const res = await http(withQuery(authorizeUrl, query({ redirect_uri: redirect })));
      expect(res.status, redirect).toBe(200);
    }
  });

  it('shows the OOB code in an element with id="code"', async () => {
    const res = await http(authorizeUrl, {
      form: { ...query(), username: 'alice', password: password(sandbox, 'alice') },
    });
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/id="code">[A-Za-z0-9_-]{20,}</);
  });

  it('redirects a loopback sign-in with the code and the state echoed exactly', async () => {
    const state = '{"nonce":"a b&c=d","n":1}';
    const redirect = 'http://127.0.0.1:53682/callback';
    const res = await http(authorizeUrl, {
      form: {
        ...query({ redirect_uri: redirect, state }),
        username: 'bob',
        password: password(sandbox, 'bob'),
      },
    });
    expect(res.status).toBe(302);
    const location = new URL(String(res.headers.location));
    expect(`${location.origin}${location.pathname}`).toBe('http://127.0.0.1:53682/callback');
    expect(location.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(location.searchParams.get('state')).toBe(state);
  });

  it('shows the form again with an error on a wrong password', async () => {
    const res = await http(authorizeUrl, { form: { ...query(), username: 'alice', password: 'wrong' } });
    expect(res.status).toBe(200);
    expect(res.text).toContain('Invalid username or password.');
    expect(res.text).toContain('name="password"');
    expect(res.text).not.toContain('id="code"');
  });

  it('lets the SAML user sign in through the form', async () => {
    const res = await http(authorizeUrl, {
      form: { ...query(), username: 'carol_saml', password: password(sandbox, 'carol_saml') },
    });
    expect(res.text).toMatch(/id="code">/);
  });

  it('redirects a cancel with access_denied and the state', async () => {
    const res = await http(authorizeUrl, {
      form: { ...query({ redirect_uri: 'http://127.0.0.1:5000/callback', state: 's1' }), action: 'cancel' },
    });
    expect(res.status).toBe(302);
    const location = new URL(String(res.headers.location));
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('error_description')).not.toBe('');
    expect(location.searchParams.get('state')).toBe('s1');
    expect(location.searchParams.get('code')).toBeNull();
  });

  it('shows a denial page for a cancelled OOB sign-in', async () => {
    const res = await http(authorizeUrl, { form: { ...query(), action: 'cancel' } });
    expect(res.status).toBe(200);
    expect(res.text).toContain('access_denied');
    expect(res.text).not.toContain('id="code"');
  });

  it('re-checks the redirect_uri on POST (hidden inputs can be edited)', async () => {
    const res = await http(authorizeUrl, {
      form: {
        ...query({ redirect_uri: 'http://evil.example/callback' }),
        username: 'alice',
        password: password(sandbox, 'alice'),
      },
    });
    expect(res.status).toBe(400);
    expect(res.headers.location).toBeUndefined();
  });

  it('rejects an unknown code_challenge_method through the redirect', async () => {
    const res = await http(
      withQuery(
        authorizeUrl,
        query({
          redirect_uri: 'http://127.0.0.1:5000/callback',
          code_challenge: 'abc',
          code_challenge_method: 'S512',
          state: 'z',
        }),
      ),
    );
    expect(res.status).toBe(302);
    const location = new URL(String(res.headers.location));
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('state')).toBe('z');
  });

  it('serves the legacy /sharing/oauth2/authorize path too', async () => {
    const res = await http(withQuery(`${sandbox.info.portalUrl}/sharing/oauth2/authorize`, query()));
    expect(res.status).toBe(200);
    expect(res.text).toContain('name="username"');
  });
});
