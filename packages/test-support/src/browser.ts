/**
 * Debian's chromium for end-to-end tests (playwright-core drives it; no downloaded browsers):
 * its path, the flags headless runs need on this machine, and whether to skip without it.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

/** playwright-core's types, for the workspaces' tests (only test-support depends on playwright-core). */
export type { Browser, BrowserContext, Page } from 'playwright-core';

/** Where Debian installs chromium (`apt-get install -y chromium`). */
export const CHROMIUM = '/usr/bin/chromium';

/** Flags for a headless run in a container: no sandbox, GPU, QUIC or background traffic. */
export const CHROMIUM_ARGS: readonly string[] = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A skip reason when chromium is missing (and REQUIRE_SERVICES is not 1), else `false`. */
export const chromiumSkip: string | false = !existsSync(CHROMIUM) && process.env['REQUIRE_SERVICES'] !== '1' ? `${CHROMIUM} is missing (apt-get install -y chromium)` : false;

/** Launches chromium with {@link CHROMIUM_ARGS}; close it in `after`. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] });
}

/**
 * Records `page`'s uncaught script errors and any dialog it opens (an `alert()` would mean
 * injected script ran; the dialog is dismissed) into the returned list.
 */
export function watchScriptErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('dialog', (dialog) => {
    errors.push(`dialog opened: ${dialog.message()}`);
    void dialog.dismiss();
  });
  return errors;
}
