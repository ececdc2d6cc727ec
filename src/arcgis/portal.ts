import { z } from 'zod';
import { ArcGisMcpError } from '../errors.js';
import type { ArcGisHttpClient, OriginBoundToken } from './http-client.js';
import { withSlash } from './oauth.js';

/** Identity and discovery endpoints of a portal (arcgis-protocol.md §5). */

const communitySelf = z
  .object({
    username: z.string().min(1),
    fullName: z.string().optional(),
    email: z.string().optional(),
    orgId: z.string().optional(),
    role: z.string().optional(),
    roleId: z.string().optional(),
    privileges: z.array(z.string()).optional(),
    mfaEnabled: z.boolean().optional(),
    provider: z.string().optional(),
  })
  .loose();
export type PortalUser = z.infer<typeof communitySelf>;

const portalSelf = z
  .object({
    id: z.string().optional(),
    name: z.string().optional(),
    urlKey: z.string().optional(),
    customBaseUrl: z.string().optional(),
    isPortal: z.boolean().optional(),
    allSSL: z.boolean().optional(),
    supportsOAuth: z.boolean().optional(),
    maxTokenExpirationMinutes: z.number().optional(),
    user: z.object({ username: z.string() }).loose().optional(),
    appInfo: z
      .object({
        appId: z.string().optional(),
        itemId: z.string().optional(),
        appOwner: z.string().optional(),
        orgId: z.string().optional(),
        appTitle: z.string().optional(),
      })
      .loose()
      .optional(),
  })
  .loose();
export type PortalSelf = z.infer<typeof portalSelf>;

const restInfo = z
  .object({
    owningSystemUrl: z.string().optional(),
    currentVersion: z.union([z.string(), z.number()]).optional(),
    authInfo: z
      .object({
        isTokenBasedSecurity: z.boolean().optional(),
        tokenServicesUrl: z.string().optional(),
        shortLivedTokenValidity: z.number().optional(),
      })
      .loose()
      .optional(),
  })
  .loose();
export type RestInfo = z.infer<typeof restInfo>;

function parse<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const r = schema.safeParse(body);
  if (!r.success) throw new ArcGisMcpError('ARCGIS_BAD_RESPONSE', `Unexpected answer from ${what}.`);
  return r.data;
}

/** `GET {rest}/community/self`: the signed-in user. Without a user (app token, no token) ArcGIS refuses (§5). */
export async function getCommunitySelf(
  http: ArcGisHttpClient,
  restUrl: URL,
  token: OriginBoundToken,
): Promise<PortalUser> {
  const body = await http.requestJson({ url: new URL('community/self', withSlash(restUrl)), token });
  return parse(communitySelf, body, 'community/self');
}

/** `GET {rest}/portals/self`: the org, with `user` for user tokens and `appInfo` for app tokens (§5). */
export async function getPortalSelf(
  http: ArcGisHttpClient,
  restUrl: URL,
  token?: OriginBoundToken,
): Promise<PortalSelf> {
  const body = await http.requestJson({
    url: new URL('portals/self', withSlash(restUrl)),
    ...(token ? { token } : {}),
  });
  return parse(portalSelf, body, 'portals/self');
}

/** `{rest}/info` on a portal, `{root}/rest/info` on a server (§5). */
export async function getRestInfo(http: ArcGisHttpClient, infoUrl: URL): Promise<RestInfo> {
  const body = await http.requestJson({ url: infoUrl });
  return parse(restInfo, body, infoUrl.pathname);
}
