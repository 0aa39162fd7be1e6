// Test helper: a real headless Chromium (Debian's package, driven by playwright-core) for the web UI tests, and reading the page's charts.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** True when the browser tests must be skipped: no Chromium here, and not CI (which installs it). */
export const needsBrowser = !existsSync(CHROMIUM) && !process.env['CI'];
export const BROWSER_SKIP = `${CHROMIUM} missing: the web UI browser tests are skipped (apt-get install -y chromium; CI installs it)`;

/** A fresh headless Chromium profile and page; every request it makes is recorded. Closing is pushed onto `cleanups`. */
export async function openBrowser(cleanups: Array<() => Promise<void>>): Promise<{ page: Page; requests: string[]; errors: string[] }> {
  const profile = await mkdtemp(join(tmpdir(), 'kindling-chromium-'));
  const context: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 1000 },
  });
  cleanups.push(async () => {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  return { page, requests, errors };
}

/** The chart's number of points, once it has at least `min`. */
export async function chartPoints(page: Page, id: string, min: number): Promise<number> {
  await page.waitForFunction(([chart, n]) => Number(document.querySelector(`svg[data-chart="${chart}"]`)?.getAttribute('data-points') ?? 0) >= Number(n), [id, min] as const, { timeout: 20_000 });
  return Number(await page.getAttribute(`svg[data-chart="${id}"]`, 'data-points'));
}
