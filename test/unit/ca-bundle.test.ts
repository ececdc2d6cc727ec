import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArcGisHttpClient, createDispatcher } from '../../src/arcgis/http-client.js';
import { loadConfig } from '../../src/config.js';
import type { ArcGisMcpError } from '../../src/errors.js';

/**
 * ArcGIS Enterprise behind an internal certificate authority (arcgis-protocol.md §9: allow a CA
 * bundle, never disable verification), with a real TLS server on 127.0.0.1 and a certificate
 * made by openssl for this run.
 */
const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!hasOpenssl) console.warn('[ca-bundle tests skipped] openssl is not installed (apt-get install openssl)');

describe.skipIf(!hasOpenssl)('extra CA bundle (ARCGIS_CA_FILE)', () => {
  let dir: string;
  let server: Server;
  let url: URL;
  let certPem: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'arcgis-ca-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    certPem = readFileSync(join(dir, 'cert.pem'), 'utf8');
    server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: certPem }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"currentVersion":11.3}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = new URL(`https://127.0.0.1:${(server.address() as AddressInfo).port}/server/rest/info`);
  });
  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('an untrusted certificate is a clear error that names ARCGIS_CA_FILE; verification is not skipped', async () => {
    const e = (await new ArcGisHttpClient({ retry: { maxRetries: 0 } })
      .requestJson({ url })
      .catch((x) => x)) as ArcGisMcpError;
    expect(e.code).toBe('ARCGIS_UNREACHABLE');
    expect(e.message).toMatch(/certificate/);
    expect(e.nextStep).toMatch(/ARCGIS_CA_FILE/);
  });

  it('with the CA bundle the same server answers', async () => {
    const http = new ArcGisHttpClient({ dispatcher: createDispatcher({ extraCaPem: certPem }) });
    await expect(http.requestJson({ url })).resolves.toEqual({ currentVersion: 11.3 });
  });

  it('ARCGIS_CA_FILE is read by the configuration, and a file without a certificate is refused', () => {
    expect(loadConfig({ env: { ARCGIS_CA_FILE: join(dir, 'cert.pem') } }).extraCaPem).toContain(
      'BEGIN CERTIFICATE',
    );
    expect(() => loadConfig({ env: { ARCGIS_CA_FILE: join(dir, 'key.pem') } })).toThrow(/no PEM certificate/);
    expect(() => loadConfig({ env: { ARCGIS_CA_FILE: join(dir, 'missing.pem') } })).toThrow(/cannot be read/);
  });
});
