/**
 * §3 / §10.3: redirect_uri must exactly match a registered one. RFC 8252 §7.3: for a loopback IP
 * literal the port is chosen at run time, so any port matches; everything else (scheme, host,
 * path, query) must be identical. `localhost` is treated like the IP literal because the app
 * registers `http://localhost/callback` too (RFC 8252 §8.3 discourages it, ArcGIS accepts it [U]).
 */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

export function matchesRegisteredRedirect(candidate: string, registered: readonly string[]): boolean {
  return registered.some((r) => redirectEquals(candidate, r));
}

function redirectEquals(candidate: string, registered: string): boolean {
  if (candidate === registered) return true;
  let c: URL;
  let r: URL;
  try {
    c = new URL(candidate);
    r = new URL(registered);
  } catch {
    return false;
  }
  if (c.protocol !== 'http:' || r.protocol !== 'http:') return false;
  if (!LOOPBACK_HOSTS.has(r.hostname) || c.hostname !== r.hostname) return false;
  // Compare the raw text after the authority: URL normalisation must not make `/callback/..` pass.
  return (
    c.username === '' &&
    c.password === '' &&
    c.hash === '' &&
    pathAndQuery(candidate) === pathAndQuery(registered) &&
    c.pathname === r.pathname &&
    c.search === r.search
  );
}

/** The literal text after `scheme://authority`, so `%2e%2e` or `/./` tricks cannot normalise into a match. */
function pathAndQuery(raw: string): string {
  const afterScheme = raw.slice(raw.indexOf('//') + 2);
  const slash = afterScheme.search(/[/?#]/);
  return slash === -1 ? '' : afterScheme.slice(slash);
}
