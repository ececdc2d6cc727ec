import { request } from 'undici';

/**
 * A scripted user for the sandbox (demo and tests share it). Signs in on the sandbox's authorize page the way a browser would without JavaScript: GET the
 * form, POST it back with username and password (product.md: a plain HTML form with inputs named
 * `username` and `password`), and read the result: the OOB page's `id="code"` element, or the
 * loopback 302.
 */
export async function signInLikeABrowser(
  authorizeUrl: string,
  username: string,
  password: string,
): Promise<{ code: string | null; location: string | null; html: string }> {
  const page = await request(authorizeUrl, { method: 'GET' });
  const form = await page.body.text();
  const action = /<form[^>]*action="([^"]*)"/i.exec(form)?.[1];
  const target = new URL(decodeEntities(action ?? ''), authorizeUrl);
  const fields = new URLSearchParams();
  for (const m of form.matchAll(/<input[^>]*>/gi)) {
    const tag = m[0];
    const name = /name="([^"]*)"/i.exec(tag)?.[1];
    const value = /value="([^"]*)"/i.exec(tag)?.[1] ?? '';
    const type = /type="([^"]*)"/i.exec(tag)?.[1] ?? 'text';
    if (!name || type === 'submit') continue;
    fields.set(name, decodeEntities(value));
  }
  fields.set('username', username);
  fields.set('password', password);
  const res = await request(target, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: fields.toString(),
  });
  const html = await res.body.text();
  const location = typeof res.headers.location === 'string' ? res.headers.location : null;
  const code = /id="code"[^>]*>\s*([^<\s]+)\s*</i.exec(html)?.[1] ?? null;
  return { code: code ? decodeEntities(code) : null, location, html };
}

function decodeEntities(s: string): string {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}
