import { test, expect } from '@playwright/test';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { langs, lessonSources } from './helpers.ts';

const root = path.resolve(import.meta.dirname, '..', '..');

/** The quickest sandbox a lesson embeds (by its recorded duration), so every lesson gets one real run. */
function quickestSandbox(slug: string): string | undefined {
  const file = readdirLesson(slug);
  const ids = [...readFileSync(file, 'utf8').matchAll(/<Sandbox id="([^"]+)"/g)].map((m) => m[1]!);
  const duration = (id: string) => {
    const recorded = path.join(root, 'sandboxes', id, 'recorded.json');
    return existsSync(recorded) ? (JSON.parse(readFileSync(recorded, 'utf8')) as { exit: { durationMs: number } }).exit.durationMs : Infinity;
  };
  return ids.sort((a, b) => duration(a) - duration(b))[0];
}

function readdirLesson(slug: string): string {
  const dir = path.join(root, 'content', 'lessons', 'en');
  return path.join(dir, readdirSync(dir).find((f) => f.endsWith(`-${slug}.mdx`))!);
}

for (const lesson of lessonSources()) {
  const id = quickestSandbox(lesson.slug);
  if (!id) continue;
  for (const lang of langs) {
    test(`${lang}: lesson "${lesson.slug}" runs ${id} on the local engine and draws its timeline`, async ({ page }) => {
      test.setTimeout(60_000);
      await page.goto(`/${lang}/lessons/${lesson.slug}/`);
      const box = page.locator(`[data-sandbox="${id}"]`);
      await box.getByRole('button', { name: lang === 'en' ? 'Run' : '运行', exact: true }).click();
      await expect(box).toHaveAttribute('data-state', 'exited', { timeout: 45_000 });
      const timeline = box.locator('[data-timeline]');
      await expect(timeline).toHaveAttribute('data-state', 'done');
      await expect(timeline.locator('[data-row="current"] .tl-chart')).toBeVisible();
      expect(Number(await timeline.getAttribute('data-wall-ms'))).toBeGreaterThan(0);
    });
  }
}
