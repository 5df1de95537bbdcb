import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { aptInstall } from './apt-install.js';

export const CHROMIUM = process.env.DRIVESEED_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Debian's Chromium, installed on first use: a test tool's own browser download does not
 * work on these machines, the Debian registry does (tests run as root in CI).
 */
export function ensureChromium(): string {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  aptInstall(['chromium'], 'the browser tests need /usr/bin/chromium');
  if (!existsSync(CHROMIUM)) throw new Error(`apt-get installed chromium, but ${CHROMIUM} is missing`);
  return CHROMIUM;
}

/** Flags for a closed network: without the background-networking ones Chromium keeps dialling Google's hosts. */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface HeadlessChromium {
  context: BrowserContext;
  close(): Promise<void>;
}

/** A fresh headless Chromium with its own empty profile, driven by playwright-core. */
export async function launchChromium(): Promise<HeadlessChromium> {
  const executablePath = ensureChromium();
  const { chromium } = await import('playwright-core');
  const profile = await mkdtemp(join(tmpdir(), 'driveseed-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: FLAGS, viewport: { width: 1280, height: 900 } });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
