import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ArcGisMcpError } from '../../src/errors.js';
import {
  forgetSecret,
  quoteUntrusted,
  redactHeaders,
  redactText,
  redactUrl,
  redactValue,
  registerSecret,
} from '../../src/redact.js';

/** Canaries shaped like ArcGIS tokens: `.`, `-`, `_`, `~`, `+`, `/`, `=` inside, ending with `.`. */
const TOKEN = 'CANARYtok3n-A_b~c+d/e=f.g.';
const REFRESH = 'CANARYrefresh.x-Y_z..';
const VERIFIER = 'CANARYverifier_0123456789abcdefghijklmnopqrstu';
const CODE = 'CANARYcode9f8e7d6c5b4a';
const SECRET = 'CANARYclientsecret0000';
const PASSWORD = 'CANARYp@ss w0rd!';
const ALL = [TOKEN, REFRESH, VERIFIER, CODE, SECRET, PASSWORD];
/** Fragments that betray a canary even when a pattern cut it short. */
const TELLTALES = ['CANARY', 'e=f.g', 'x-Y_z', 'w0rd'];

function expectClean(text: string): void {
  for (const t of TELLTALES) expect(text).not.toContain(t);
}

describe('redactText: patterns (no registered secrets)', () => {
  const cases: [string, string][] = [
    [
      'token in a URL query',
      `https://h.example.org/a/FeatureServer/0/query?f=json&token=${TOKEN}&where=1%3D1`,
    ],
    ['token first in a query', `GET /x?token=${TOKEN}`],
    ['upper-case parameter name', `/x?TOKEN=${TOKEN}`],
    ['url-encoded token', `/x?token=${encodeURIComponent(TOKEN)}&f=json`],
    ['form body', `grant_type=refresh_token&refresh_token=${REFRESH}&client_id=abc`],
    ['access_token in a form body', `access_token=${TOKEN}&expires_in=7200`],
    [
      'code and code_verifier',
      `grant_type=authorization_code&code=${CODE}&code_verifier=${VERIFIER}&redirect_uri=x`,
    ],
    ['client_secret', `client_id=abc&client_secret=${SECRET}&grant_type=client_credentials`],
    ['password (form-encoded)', `username=alice&password=${encodeURIComponent(PASSWORD)}&f=json`],
    ['auth_token', `x?auth_token=${TOKEN}`],
    ['serverToken', `x?serverToken=${TOKEN}`],
    ['token inside an encoded redirect URL', `?next=${encodeURIComponent(`https://h/x?token=${TOKEN}&a=1`)}`],
    ['JSON token', `{"token":"${TOKEN}","expires":1}`],
    ['JSON access_token with spaces', `{ "access_token" : "${TOKEN}", "refresh_token": "${REFRESH}" }`],
    ['JSON with escaped quote inside the value', `{"password":"CANARY\\"w0rd"}`],
    ['JSON inside a JSON string', JSON.stringify({ body: JSON.stringify({ refresh_token: REFRESH }) })],
    ['JSON header object', `{"x-esri-authorization":"${TOKEN}"}`],
    ['util.inspect style', inspect({ token: TOKEN, client_secret: SECRET })],
    ['util.inspect header object', inspect({ 'x-esri-authorization': TOKEN })],
    ['Bearer', `Bearer ${TOKEN}`],
    ['bearer lower case', `bearer ${TOKEN}`],
    ['X-Esri-Authorization header', `X-Esri-Authorization: Bearer ${TOKEN}`],
    ['Authorization header without scheme', `Authorization: ${TOKEN}`],
    ['Basic credentials', `Authorization: Basic ${Buffer.from('u:CANARYw0rd').toString('base64')}`],
    ['Cookie header', `Cookie: esri_auth=${TOKEN}; other=1`],
    ['token ending with a dot before a space', `token=${TOKEN} next`],
  ];
  it.each(cases)('SEC-REDACT: %s', (_name, text) => {
    const out = redactText(text);
    expectClean(out);
    expect(out).toContain('[REDACTED]');
  });

  it('SEC-REDACT: keeps the surrounding text and other parameters', () => {
    expect(redactText(`https://h/q?f=json&token=${TOKEN}&where=1%3D1`)).toBe(
      'https://h/q?f=json&token=[REDACTED]&where=1%3D1',
    );
    expect(redactText(`X-Esri-Authorization: Bearer ${TOKEN} then more`)).toBe(
      'X-Esri-Authorization: [REDACTED] then more',
    );
    expect(redactText(`{"token":"${TOKEN}","ok":true}`)).toBe('{"token":"[REDACTED]","ok":true}');
  });

  it('SEC-REDACT: leaves error codes and look-alike parameter names alone', () => {
    const body = '{"error":{"code":498,"message":"Invalid token.","details":[]}}';
    expect(redactText(body)).toBe(body);
    expect(redactText('{"code":"ARCGIS_TOKEN_INVALID"}')).toBe('{"code":"ARCGIS_TOKEN_INVALID"}');
    expect(redactText("{ code: 'ECONNREFUSED' }")).toBe("{ code: 'ECONNREFUSED' }");
    expect(redactText('?mytoken=abc&tokenType=x&f=json')).toBe('?mytoken=abc&tokenType=x&f=json');
    expect(redactText('token= ')).toBe('token= ');
  });

  it('SEC-REDACT: is idempotent', () => {
    const once = redactText(`a?token=${TOKEN} Bearer ${TOKEN} {"code":"${CODE}"}`);
    expect(redactText(once)).toBe(once);
  });
});

describe('registerSecret', () => {
  afterEach(() => {
    for (const s of ALL) forgetSecret(s);
  });

  it('SEC-REDACT: a registered secret is redacted wherever it appears, even where no pattern looks', () => {
    registerSecret(TOKEN);
    const out = redactText(`weird place: /path/${TOKEN}/x and ${encodeURIComponent(TOKEN)} and "${TOKEN}"`);
    expect(out).toBe('weird place: /path/[REDACTED]/x and [REDACTED] and "[REDACTED]"');
  });

  it('SEC-REDACT: form-encoded spelling of a registered password is redacted', () => {
    registerSecret(PASSWORD);
    const form = new URLSearchParams({ u: 'alice', p: PASSWORD }).toString();
    expectClean(redactText(form));
  });

  it('SEC-REDACT: a secret inside a longer one does not split it', () => {
    registerSecret('CANARYshort');
    registerSecret('CANARYshort-and-longer-token');
    expect(redactText('x CANARYshort-and-longer-token y CANARYshort z')).toBe('x [REDACTED] y [REDACTED] z');
    forgetSecret('CANARYshort');
    forgetSecret('CANARYshort-and-longer-token');
  });

  it('ignores short values and nullish input', () => {
    registerSecret('short');
    registerSecret(undefined);
    registerSecret(null);
    registerSecret('');
    expect(redactText('a short word')).toBe('a short word');
  });

  it('forgetSecret stops redacting a value', () => {
    registerSecret('CANARYforgettable');
    expect(redactText('CANARYforgettable')).toBe('[REDACTED]');
    forgetSecret('CANARYforgettable');
    expect(redactText('CANARYforgettable')).toBe('CANARYforgettable');
  });

  it('keeps a bounded set: the oldest of 1001 secrets is evicted', () => {
    const values = Array.from({ length: 1001 }, (_, i) => `bounded-secret-${String(i).padStart(4, '0')}`);
    for (const v of values) registerSecret(v);
    expect(redactText(values[0] ?? '')).toBe(values[0]);
    expect(redactText(values[1] ?? '')).toBe('[REDACTED]');
    expect(redactText(values[1000] ?? '')).toBe('[REDACTED]');
    for (const v of values) forgetSecret(v);
  });
});

describe('redactUrl', () => {
  it('SEC-REDACT: secret parameters in a URL object or string', () => {
    const u = new URL(`https://h.example.org/x/FeatureServer/0?token=${TOKEN}&f=json`);
    expect(redactUrl(u)).toBe('https://h.example.org/x/FeatureServer/0?token=[REDACTED]&f=json');
    expect(redactUrl(u.href)).toBe(redactUrl(u));
  });

  it('SEC-REDACT: userinfo is removed', () => {
    const out = redactUrl('https://alice:CANARYw0rd@h.example.org/x?f=json');
    expect(out).toBe('https://[REDACTED]@h.example.org/x?f=json');
    expect(redactUrl(new URL('https://alice:CANARYw0rd@h.example.org/'))).not.toContain('CANARY');
  });

  it('SEC-REDACT: unparseable text still goes through the patterns', () => {
    expectClean(redactUrl(`not a url ?token=${TOKEN}`));
  });
});

describe('redactHeaders', () => {
  it('SEC-REDACT: credential headers are replaced whole, in any case', () => {
    const out = redactHeaders({
      'X-Esri-Authorization': `Bearer ${TOKEN}`,
      authorization: `Bearer ${TOKEN}`,
      Cookie: `a=${TOKEN}`,
      'set-cookie': [`a=${TOKEN}`, 'b=1'],
      'content-type': 'application/x-www-form-urlencoded',
      referer: `https://h/x?token=${TOKEN}`,
      absent: undefined,
    });
    expect(out).toEqual({
      'X-Esri-Authorization': '[REDACTED]',
      authorization: '[REDACTED]',
      Cookie: '[REDACTED]',
      'set-cookie': '[REDACTED]',
      'content-type': 'application/x-www-form-urlencoded',
      referer: 'https://h/x?token=[REDACTED]',
    });
  });
});

describe('redactValue', () => {
  it('SEC-REDACT: secret-named keys, nested strings, arrays, Maps, URLs, Headers', () => {
    const value = {
      accessToken: TOKEN,
      refresh_token: REFRESH,
      codeVerifier: VERIFIER,
      clientSecret: SECRET,
      nested: { password: PASSWORD, list: [`Bearer ${TOKEN}`, { token: TOKEN }] },
      map: new Map([['token', TOKEN]]),
      url: new URL(`https://h/x?token=${TOKEN}`),
      headers: new Headers({ 'x-esri-authorization': `Bearer ${TOKEN}` }),
      needsToken: true,
      code: 'ARCGIS_TOKEN_INVALID',
      oauth: { code: CODE },
      count: 3,
    };
    const out = redactValue(value);
    expectClean(JSON.stringify(out));
    expect(out).toMatchObject({
      accessToken: '[REDACTED]',
      needsToken: true,
      code: 'ARCGIS_TOKEN_INVALID',
      oauth: { code: '[REDACTED]' },
      count: 3,
      url: 'https://h/x?token=[REDACTED]',
      headers: { 'x-esri-authorization': '[REDACTED]' },
    });
  });

  it('is JSON-safe: cycles, bigint, undefined, functions, dates, binary', () => {
    const a: Record<string, unknown> = {
      n: 1n,
      u: undefined,
      f: function named() {},
      d: new Date(0),
      b: Buffer.from('xy'),
    };
    a['self'] = a;
    const out = redactValue(a);
    expect(JSON.parse(JSON.stringify(out))).toEqual({
      n: '1',
      f: '[Function named]',
      d: '1970-01-01T00:00:00.000Z',
      b: '[Binary 2 bytes]',
      self: '[Circular]',
    });
    expect(redactValue([undefined, NaN])).toEqual([null, 'NaN']);
  });

  it('SEC-REDACT: errors become name, code, message (and cause) without context', () => {
    const cause = Object.assign(new Error(`connect ECONNREFUSED token=${TOKEN}`), { code: 'ECONNREFUSED' });
    const err = new ArcGisMcpError('ARCGIS_UNREACHABLE', `Could not reach https://h/x?token=${TOKEN}`, {
      nextStep: 'Retry later.',
      context: { url: `https://h/x?token=${TOKEN}`, body: { refresh_token: REFRESH } },
      cause,
    });
    const out = redactValue({ err });
    const json = JSON.stringify(out);
    expectClean(json);
    expect(json).not.toContain('context');
    expect(out).toEqual({
      err: {
        name: 'ArcGisMcpError',
        code: 'ARCGIS_UNREACHABLE',
        message: 'Could not reach https://h/x?token=[REDACTED]',
        nextStep: 'Retry later.',
        cause: { name: 'Error', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED token=[REDACTED]' },
      },
    });
  });
});

describe('ArcGisMcpError with secrets in its context', () => {
  const err = new ArcGisMcpError('ARCGIS_TOKEN_INVALID', 'The token was rejected.', {
    nextStep: 'Sign in again.',
    arcgisCode: 498,
    context: {
      url: `https://h/x?token=${TOKEN}`,
      headers: { 'X-Esri-Authorization': `Bearer ${TOKEN}` },
      body: new URLSearchParams({
        refresh_token: REFRESH,
        code_verifier: VERIFIER,
        client_secret: SECRET,
        password: PASSWORD,
        code: CODE,
      }).toString(),
    },
  });

  it('SEC-REDACT: JSON.stringify(err) contains no secret', () => {
    const json = JSON.stringify(err);
    expectClean(json);
    expect(JSON.parse(json)).toMatchObject({
      code: 'ARCGIS_TOKEN_INVALID',
      message: 'The token was rejected.',
    });
  });

  it('SEC-REDACT: util.inspect(err) contains no secret, even deeply', () => {
    const text = inspect(err, { depth: 10, showHidden: false });
    expectClean(text);
    expect(text).toContain('ARCGIS_TOKEN_INVALID');
  });

  it('SEC-REDACT: the context itself, when someone prints it, goes through redactValue clean', () => {
    expectClean(JSON.stringify(redactValue(err.context)));
    expectClean(redactText(inspect(err.context, { depth: 10 })));
    expectClean(redactText(JSON.stringify(err.context)));
  });
});

describe('quoteUntrusted', () => {
  it('SEC-UNTRUSTED-DATA: JSON-quotes the text', () => {
    expect(quoteUntrusted('Invalid field: "x"')).toBe('"Invalid field: \\"x\\""');
  });

  it('SEC-UNTRUSTED-DATA: caps the length at 500 by default, with a marker', () => {
    const out = quoteUntrusted('a'.repeat(2000));
    expect(JSON.parse(out)).toBe(`${'a'.repeat(500)}…(truncated)`);
    expect(JSON.parse(quoteUntrusted('abcdef', 3))).toBe('abc…(truncated)');
    expect(JSON.parse(quoteUntrusted('abc', 3))).toBe('abc');
  });

  it('SEC-UNTRUSTED-DATA: never splits a surrogate pair', () => {
    expect(JSON.parse(quoteUntrusted('😀😀😀', 2))).toBe('😀😀…(truncated)');
  });

  it('SEC-UNTRUSTED-DATA: strips control and invisible characters, line breaks become spaces', () => {
    const out = quoteUntrusted('line1\nline2\r\n\u0007bell\u202eevil\u200bzw\u0000');
    expect(out).toBe('"line1 line2 bellevilzw"');
    expect(out).not.toMatch(/\n/);
  });

  it('SEC-REDACT: secrets echoed back by ArcGIS are redacted', () => {
    const out = quoteUntrusted(`Invalid request https://h/x?token=${TOKEN}`);
    expectClean(out);
    expect(out).toContain('token=[REDACTED]');
  });

  it('SEC-REDACT: an invisible character cannot smuggle a registered secret past the redactor', () => {
    registerSecret(TOKEN);
    const smuggled = `${TOKEN.slice(0, 6)}\u200b${TOKEN.slice(6)}`;
    expectClean(quoteUntrusted(`value ${smuggled}`));
    forgetSecret(TOKEN);
  });
});
