/**
 * Opt-in, online only (WEBCONTAINER_E2E=1, see playwright.config.ts): boots a real
 * WebContainer from StackBlitz's servers on the cross-origin isolated static site and runs
 * Node twin sandboxes end to end — a script, and a server whose load runs inside the
 * container — checking the claims their manifests make against what the page shows.
 * Offline the boot cannot succeed, so these tests fail there; they are never skipped.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import type { SandboxManifest } from '../../../src/protocol/manifest.ts';
import { collectErrors } from '../helpers.ts';

const manifestOf = (id: string) =>
  JSON.parse(readFileSync(path.resolve(import.meta.dirname, '..', '..', '..', 'sandboxes', id, 'sandbox.json'), 'utf8')) as SandboxManifest;

for (const [slug, id] of [
  ['event-loop', 'event-loop-node-timers'],
  ['blocking-the-loop', 'blocking-the-loop-node'],
] as const) {
  test(`${id} runs in a real WebContainer and keeps its claim`, async ({ page }) => {
    const errors = collectErrors(page);
    await page.goto(`/en/lessons/${slug}/`);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    const box = page.locator(`[data-sandbox="${id}"]`);
    await expect(box).toHaveAttribute('data-engine', 'webcontainer');
    await box.locator('[data-action="run"]').click();
    await expect(box).toHaveAttribute('data-state', 'exited', { timeout: 150_000 });
    await expect(box.locator('[data-status]')).toContainText('Ran on a WebContainer in your browser');

    const { expect: claim = {} } = manifestOf(id);
    if (claim.exitCode !== undefined) await expect(box.locator('[data-status]')).toContainText(`code ${claim.exitCode}`);
    for (const text of claim.stdoutIncludes ?? []) await expect(box.locator('[data-console]')).toContainText(text);
    const row = box.locator('[data-timeline] [data-row="current"]');
    await expect(row).toBeVisible();
    const blocked = Number(await row.getAttribute('data-loop-blocked-ms'));
    const wall = Number(await row.getAttribute('data-wall-ms'));
    if (claim.loopBlockedMs?.min !== undefined) expect(blocked).toBeGreaterThanOrEqual(claim.loopBlockedMs.min);
    if (claim.loopBlockedMs?.max !== undefined) expect(blocked).toBeLessThanOrEqual(claim.loopBlockedMs.max);
    if (claim.wallMs?.min !== undefined) expect(wall).toBeGreaterThanOrEqual(claim.wallMs.min);
    if (claim.wallMs?.max !== undefined) expect(wall).toBeLessThanOrEqual(claim.wallMs.max * 1.5); // a browser runtime is slower than node
    expect(errors).toEqual([]);
  });
}
