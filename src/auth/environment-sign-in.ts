import type { ArcGisHttpClient } from '../arcgis/http-client.js';
import type { EnvironmentCredentials } from '../config.js';
import { isArcGisMcpError } from '../errors.js';
import type { Logger } from '../log.js';
import { registerSecret } from '../redact.js';
import { adoptHandedToken, signInWithPassword } from './credential-intake.js';
import type { ProfileContext } from './profile-registry.js';

/**
 * Section D (scripts): credentials from the environment or `.env` sign the default profile in at
 * start. ARCGIS_USERNAME + ARCGIS_PASSWORD use generateToken and re-generate before expiry;
 * ARCGIS_TOKEN / ARCGIS_API_KEY are classified like a pasted token (an app token stays an app
 * token). A keychain session restored at start wins over them: it is the user's own sign-in.
 * Failures do not stop the server; they show in arcgis_whoami with the next step.
 */
export async function applyEnvironmentCredentials(
  p: ProfileContext,
  http: ArcGisHttpClient,
  credentials: EnvironmentCredentials,
  log: Logger,
): Promise<void> {
  registerSecret(credentials.password);
  registerSecret(credentials.token);
  if (p.session.hasUserSession) return;
  try {
    if (credentials.username && credentials.password) {
      const who = await signInWithPassword(p, http, credentials.username, credentials.password, {
        keepRenewing: true,
      });
      log.info('signed in from ARCGIS_USERNAME/ARCGIS_PASSWORD', {
        profile: p.config.name,
        username: who.username,
      });
    } else if (credentials.username || credentials.password) {
      p.session.reportProblem('ARCGIS_USERNAME and ARCGIS_PASSWORD must be set together; neither was used.');
    }
    if (credentials.token && !p.session.hasUserSession) {
      const cls = await adoptHandedToken(p, http, credentials.token, 'environment-token');
      log.info('token from the environment classified', { profile: p.config.name, kind: cls.kind });
    }
  } catch (e) {
    const text = isArcGisMcpError(e)
      ? e.toUserText()
      : 'The credentials from the environment could not be used.';
    p.session.reportProblem(`Environment credentials: ${text}`);
    log.warn('environment credentials failed', { profile: p.config.name, error: e });
  }
}
