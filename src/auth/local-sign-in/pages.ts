import type { SignInOutcome } from './types.js';
import { CSRF_FIELD } from './csrf.js';
import { escapeHtml, layout } from './html.js';

/** What went wrong, already redacted, ready to be escaped onto a page. */
export interface Problem {
  message: string;
  nextStep?: string;
}

export interface SignInPageContext {
  portalLabel: string;
  /** `/signin/<id>`: every form and link of the page is relative to it. */
  basePath: string;
  csrfToken: string;
  /** How long the page stays usable, for the footer. */
  minutesLeft: number;
}

export interface SignInPageState {
  problem?: Problem;
  /** Which way the problem belongs to, so its notice sits next to its form. */
  way?: 'oauth' | 'token' | 'password';
  /** Re-filled after a failed password sign-in (a username is not a secret; the password never is). */
  username?: string;
}

export const MAX_TOKEN_LENGTH = 8192;
export const MAX_USERNAME_LENGTH = 256;
export const MAX_PASSWORD_LENGTH = 1024;

const CLOSE_TAB = 'You can close this tab and go back to Claude.';

function notice(problem: Problem): string {
  const next = problem.nextStep ? `<p><strong>Next step:</strong> ${escapeHtml(problem.nextStep)}</p>` : '';
  return `<div class="notice error" role="alert"><p><strong>That did not work.</strong> ${escapeHtml(
    problem.message,
  )}</p>${next}</div>`;
}

/**
 * The one-time local sign-in page (product.md Sections A–D): three ways, explained for GIS staff.
 * Plain HTML forms that work with JavaScript disabled; each form's action ends in its section's
 * fragment, so an answer with an error opens scrolled to the form that was used. Secrets never
 * come back into the page: token and password inputs are always rendered empty.
 */
export function renderSignInPage(ctx: SignInPageContext, state: SignInPageState = {}): string {
  const portal = escapeHtml(ctx.portalLabel);
  const base = escapeHtml(ctx.basePath);
  const csrf = `<input type="hidden" name="${CSRF_FIELD}" value="${escapeHtml(ctx.csrfToken)}">`;
  const problemFor = (way: NonNullable<SignInPageState['way']>): string =>
    state.problem && (state.way ?? 'oauth') === way ? notice(state.problem) : '';
  const username = state.username === undefined ? '' : ` value="${escapeHtml(state.username)}"`;
  const minutes = Math.max(1, Math.round(ctx.minutesLeft));

  return layout(
    `Sign in to ArcGIS: ${ctx.portalLabel}`,
    `<p class="eyebrow">arcgis-mcp · running on this computer</p>
<h1>Sign in to ArcGIS for Claude</h1>
<p class="portal">Portal: <strong>${portal}</strong></p>
<p>Claude needs you to sign in before it can read content your ArcGIS organization keeps private.
Pick <strong>one</strong> of the three ways below. What you enter here goes only to this helper on your
computer and to your portal; it never appears in the chat.</p>

<section class="card primary" id="oauth">
<h2><span class="n">1</span> Sign in with ArcGIS <span class="tag">Recommended</span></h2>
${problemFor('oauth')}
<p>Opens your organization's own ArcGIS sign-in page. If your organization signs in through
<strong>single sign-on</strong> (SAML, for example Microsoft Entra ID, Okta or ADFS) or uses
<strong>multi-factor authentication</strong>, this is the way to use: the other two do not work for such
accounts. It works for built-in ArcGIS accounts too.</p>
<a class="button" href="${base}/oauth">Sign in with ArcGIS</a>
<p class="fine">When you are done, ArcGIS sends your browser back to this computer and the tab tells you
so. arcgis-mcp never sees your password.</p>
</section>

<section class="card" id="token">
<h2><span class="n">2</span> Paste a token</h2>
${problemFor('token')}
<p>Use this if you already have a token:</p>
<ul>
<li><strong>A token you generated yourself</strong> at <code>${portal}/sharing/rest/generateToken</code>
(sign in there with your ArcGIS username and password and copy the token it shows).</li>
<li><strong>An app's temporary token</strong>, copied from the settings page of an app registered in your
organization. That is an <em>app token</em>: it stands for the app, not for you. arcgis-mcp will use it only
for public content and location services (such as geocoding, routing and basemaps), never for your
organization's items or feature services.</li>
</ul>
<form method="post" action="${base}/token#token">
${csrf}
<label for="token-input">Token</label>
<input id="token-input" name="token" type="password" autocomplete="off" autocapitalize="off"
spellcheck="false" required maxlength="${MAX_TOKEN_LENGTH}">
<button type="submit">Use this token</button>
</form>
</section>

<section class="card" id="password">
<h2><span class="n">3</span> Username and password</h2>
${problemFor('password')}
<p>Only for built-in ArcGIS accounts in organizations <strong>without</strong> single sign-on (SAML) or
multi-factor authentication. If you normally sign in through your company's login page, use way 1.</p>
<form method="post" action="${base}/password#password">
${csrf}
<label for="username-input">ArcGIS username</label>
<input id="username-input" name="username" type="text" autocomplete="off" autocapitalize="off"
spellcheck="false" required maxlength="${MAX_USERNAME_LENGTH}"${username}>
<label for="password-input">Password</label>
<input id="password-input" name="password" type="password" autocomplete="off" required
maxlength="${MAX_PASSWORD_LENGTH}">
<button type="submit">Sign in</button>
</form>
<p class="fine">Your password is sent once, to ${portal}, to get a token.</p>
</section>

<footer>This page is served by arcgis-mcp on 127.0.0.1 (this computer only). Its link works until you have
signed in, or for about ${minutes} minute${minutes === 1 ? '' : 's'}; after that, ask Claude for a new one.</footer>`,
  );
}

/** The page after the first successful sign-in, whichever way it came. */
export function renderOutcomePage(outcome: SignInOutcome, portalLabel: string): string {
  const portal = `<strong>${escapeHtml(portalLabel)}</strong>`;
  if (outcome.way === 'token' && outcome.kind === 'app') {
    const app = outcome.appTitle ? ` for the app <strong>${escapeHtml(outcome.appTitle)}</strong>` : '';
    return layout(
      'App token saved',
      `<p class="eyebrow">arcgis-mcp · running on this computer</p>
<h1>App token saved</h1>
<div class="notice app">
<p class="big">This is an <strong>app token</strong>${app} on ${portal}. It stands for the app, not for a person.</p>
<p>arcgis-mcp will use it only for public content and location services (such as geocoding, routing and
basemaps). It will <strong>never</strong> be sent to your organization's items or feature services, so it
cannot read data your organization keeps private.</p>
<p>To work with your organization's content, ask Claude to sign in again and choose
<strong>Sign in with ArcGIS</strong>.</p>
</div>
<p class="big">${CLOSE_TAB}</p>`,
    );
  }
  const who = outcome.username
    ? `Signed in as <strong>${escapeHtml(outcome.username)}</strong> to ${portal}.`
    : `Signed in to ${portal}.`;
  return layout(
    'Signed in',
    `<p class="eyebrow">arcgis-mcp · running on this computer</p>
<h1>Signed in</h1>
<div class="notice ok"><p class="big">${who}</p></div>
<p class="big">${CLOSE_TAB}</p>`,
  );
}

/** The loopback callback went wrong (access denied, bad or replayed state, rejected code). */
export function renderCallbackErrorPage(
  problem: Problem,
  portalLabel: string,
  signInPath: string | null,
): string {
  const again = signInPath
    ? `<p><a class="button" href="${escapeHtml(signInPath)}">Back to the sign-in page</a></p>`
    : '<p>Ask Claude to start a new sign-in.</p>';
  return layout(
    'Sign-in did not finish',
    `<p class="eyebrow">arcgis-mcp · running on this computer</p>
<h1>Sign-in did not finish</h1>
<p class="portal">Portal: <strong>${escapeHtml(portalLabel)}</strong></p>
${notice(problem)}
${again}`,
  );
}

/** Anything that arrives after the sign-in finished (410 Gone). */
export function renderFinishedPage(): string {
  return layout(
    'Sign-in already finished',
    `<p class="eyebrow">arcgis-mcp · running on this computer</p>
<h1>This sign-in is already finished</h1>
<p class="big">${CLOSE_TAB}</p>`,
  );
}
