import type { SandboxUserInfo, UserRole } from './types.js';

/**
 * The org's people and its one registered app. Passwords are fixed and printed on the ready
 * line: this is a local emulator, and tests and demos need to sign in.
 */
export interface SandboxUser extends SandboxUserInfo {
  fullName: string;
  email: string;
  /** §4 [U]: SAML/MFA users have no portal password, so generateToken always fails for them. */
  canUseGenerateToken: boolean;
}

export const ORG_ID = 'SbxOrg7Q2mT9kLzA';
export const ORG_NAME = 'Sandbox Relief Network';
export const URL_KEY = 'sandbox-relief';

export const USERS: readonly SandboxUser[] = [
  {
    username: 'alice',
    password: 'alice-password-1',
    role: 'org_admin',
    provider: 'arcgis',
    fullName: 'Alice Admin',
    email: 'alice@example.org',
    canUseGenerateToken: true,
  },
  {
    username: 'bob',
    password: 'bob-password-1',
    role: 'org_user',
    provider: 'arcgis',
    fullName: 'Bob User',
    email: 'bob@example.org',
    canUseGenerateToken: true,
  },
  {
    username: 'carol_saml',
    password: 'carol-idp-password-1',
    role: 'org_user',
    provider: 'saml',
    fullName: 'Carol Saml',
    email: 'carol@example.org',
    canUseGenerateToken: false,
  },
];

export function findUser(username: string): SandboxUser | undefined {
  return USERS.find((u) => u.username === username);
}

/** The password check the sign-in form uses (the IdP's, for SAML users). */
export function checkPassword(username: string, password: string): SandboxUser | undefined {
  const user = findUser(username);
  return user !== undefined && user.password === password ? user : undefined;
}

export const ROLE_IDS: Record<UserRole, string> = {
  org_admin: 'org_admin',
  org_publisher: 'org_publisher',
  org_user: 'org_user',
};

export const ROLE_PRIVILEGES: Record<UserRole, string[]> = {
  org_admin: [
    'portal:admin:viewUsers',
    'portal:admin:updateUsers',
    'portal:user:createItem',
    'portal:user:shareToOrg',
  ],
  org_publisher: ['portal:publisher:publishFeatures', 'portal:user:createItem', 'portal:user:shareToOrg'],
  org_user: ['portal:user:createItem', 'portal:user:joinGroup', 'portal:user:viewOrgItems'],
};

/** The registered app (one client id + secret). */
export interface RegisteredApp {
  clientId: string;
  clientSecret: string;
  itemId: string;
  title: string;
  owner: string;
  redirectUris: string[];
}

export const APP: RegisteredApp = {
  clientId: 'sbxClientArcgisMcp',
  clientSecret: 'sbx-secret-3f9c2a7e51d04b88',
  itemId: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
  title: 'arcgis-mcp (sandbox)',
  owner: 'alice',
  redirectUris: ['urn:ietf:wg:oauth:2.0:oob', 'http://127.0.0.1/callback', 'http://localhost/callback'],
};

export function findApp(clientId: string | undefined): RegisteredApp | undefined {
  return clientId === APP.clientId ? APP : undefined;
}
