import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { describe } from 'vitest';

/**
 * Headless Chromium for end-to-end sign-in tests (environment.md: the Debian package, driven by
 * playwright-core). Without it the tests are skipped with a visible notice; with
 * ARCGIS_REQUIRE_BROWSER=1 (CI) a missing browser fails the run instead.
 */
export const CHROMIUM_PATH = '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export const browserAvailable = existsSync(CHROMIUM_PATH);

if (!browserAvailable) {
  const why = `${CHROMIUM_PATH} is missing (apt-get install -y chromium)`;
  if (process.env.ARCGIS_REQUIRE_BROWSER === '1') {
    throw new Error(`ARCGIS_REQUIRE_BROWSER=1 but ${why}`);
  }
  console.warn(`[browser tests skipped] ${why}; set ARCGIS_REQUIRE_BROWSER=1 to make this a failure`);
}

/** `describe` when Chromium is installed, a visibly announced `describe.skip` otherwise. */
export const describeBrowser = browserAvailable ? describe : describe.skip;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/** A fresh profile with JavaScript off: the local sign-in page must work without it. */
export function newNoScriptContext(browser: Browser): Promise<BrowserContext> {
  return browser.newContext({ javaScriptEnabled: false });
}
