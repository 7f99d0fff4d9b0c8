// Debian's Chromium for the browser tests (never a downloaded one): its path (OLMO_CHROMIUM overrides it) and the
// flags that keep a headless run from reaching the network on its own (updates, sync, QUIC probes).
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.OLMO_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Chromium with a fresh profile in `profile`, so nothing cached or configured from an earlier session takes part. */
export function launchChromium(profile: string, viewport = { width: 1280, height: 900 }): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    headless: true,
    viewport,
  });
}
