import { z } from 'zod';
import type { AppContext } from '../../app-context.js';

/**
 * AUTH-PORTAL-FROM-CONFIG: the model picks a profile by name from the configured ones; it never
 * supplies a portal URL.
 */
export function profileArg(ctx: AppContext) {
  const names = ctx.profiles.names as [string, ...string[]];
  return z
    .enum(names)
    .optional()
    .describe(
      `Which configured ArcGIS portal to use. One of: ${names.join(', ')}. Default: ${ctx.profiles.defaultName}.`,
    );
}
