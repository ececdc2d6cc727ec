/**
 * Shapes shared across the sandbox. The sandbox is a separate program (style.md §1): it shares no
 * code with the client, only the wire formats of arcgis-protocol.md.
 */

/** Run-time fault injection (arcgis-protocol.md §10.8). Every field is mutable while running. */
export interface FaultSwitches {
  /** Delay added before every matching request is answered. */
  latencyMs: number;
  /** The next N matching requests are answered with a rate-limit error (§2 "rate limit"). */
  rateLimitNext: number;
  /** §2: ArcGIS sends either HTTP 429 or code 429 inside a 200 body; true selects the body form. */
  rateLimitAsBody: boolean;
  /** §2 [U]: `Retry-After` is not documented; null sends none. */
  retryAfterSeconds: number | null;
  /** The next N matching requests get the §2 "timeout / busy" body. */
  serverErrorNext: number;
  serverErrorCode: 503 | 504;
  /** The next N matching connections are destroyed without any response. */
  dropNext: number;
  /** The next N matching requests get an HTML page (a web adaptor / proxy error) instead of JSON. */
  htmlNext: number;
  /** Which requests faults apply to: all, only feature-service requests, or only portal requests. */
  scope: 'all' | 'services' | 'portal';
  /** Extra filter: only paths containing this substring (empty string: any path). */
  pathIncludes: string;
}

/**
 * Behaviours where real ArcGIS is unconfirmed ([U] in arcgis-protocol.md): modelled with a default,
 * switchable per sandbox so a client can be tested against both readings.
 */
export interface QuirkSwitches {
  /** §10.2: errors with their real 4xx/5xx status instead of HTTP 200. */
  httpErrorStatuses: boolean;
  /** §4/§11 [U]: some Enterprise versions accept the raw portal token on a federated server. */
  federatedAcceptsPortalToken: boolean;
  /** RFC 9700 §4.2.4 / RFC 6749 §4.1.2: a replayed code revokes the tokens issued from it. */
  revokeOnCodeReuse: boolean;
  /** §1: the default `f` is HTML on most resources. false: a missing `f` answers JSON. */
  htmlWithoutF: boolean;
}

export type TokenIn = 'none' | 'query' | 'body' | 'x-esri-authorization' | 'authorization';
export type TokenKind = 'none' | 'user' | 'app' | 'server' | 'invalid';

/** One request as the security tests see it: never the token value, only where it was and what it was. */
export interface RecordedRequest {
  time: number;
  method: string;
  origin: string;
  path: string;
  queryKeys: string[];
  bodyKeys: string[];
  tokenIn: TokenIn;
  tokenKind: TokenKind;
  referer?: string;
}

export type UserRole = 'org_admin' | 'org_publisher' | 'org_user';

export interface SandboxUserInfo {
  username: string;
  password: string;
  role: UserRole;
  /** How the user signs in: `arcgis` (built-in account) or `saml` (no portal password, §4 [U]). */
  provider: 'arcgis' | 'saml';
}

export interface SandboxServices {
  /** Public layer (Parks): data without a token, 498 with a bad one. */
  public: string;
  /** Org-private layer (Shelters in Texas). */
  private: string;
  /** Org-private layer with 100,000 features, maxRecordCount 2000. */
  large: string;
  /** Public layer without pagination support (Koop-like, §12). */
  noPagination: string;
  /** Org-private table (no geometry). */
  table: string;
  /** FeatureServer root of the public service. */
  publicService: string;
  /** FeatureServer root of the private service (holds `private` and `table`). */
  privateService: string;
  /** Enterprise mode: secured layer on the federated server (needs a server token). */
  federated?: string;
  /** Enterprise mode: public layer on the unfederated server. */
  unfederated?: string;
  /** Enterprise mode: secured layer on the unfederated server (its own tokens only). */
  unfederatedPrivate?: string;
}

/** Exactly what the ready line prints (product.md "The contract"). */
export interface SandboxReadyInfo {
  portalUrl: string;
  restUrl: string;
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  orgId: string;
  users: { username: string; password: string; role: UserRole }[];
  services: SandboxServices;
  /** The hosting server root (federated with the portal, same origin). */
  hostingServerUrl: string;
  /** Test-only control endpoints; nothing in the ArcGIS API links to them. */
  adminUrl: string;
  enterprise: boolean;
  servers?: { federated: string; unfederated: string };
}
