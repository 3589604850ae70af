/**
 * Progress on every page that lists lessons (issue 19): "3 of 5 challenges" beside each
 * lesson that has challenges, a mark on the challenges already done, the lesson recorded as
 * visited, and the reset. All from localStorage (progress-store.ts); updated when the
 * reader finishes a challenge in this tab or another. A few hundred bytes: no sandbox code.
 */
import { progressEvent, progressKey, progressStore } from './progress-store.ts';

const fill = (template: string, values: Record<string, number>) => template.replace(/\{(\w+)\}/g, (_, k: string) => String(values[k] ?? ''));

export function showProgress(): void {
  const store = progressStore();
  const lesson = document.querySelector<HTMLElement>('[data-lesson]')?.dataset.lesson;
  if (lesson) store.markVisited(lesson);
  const render = () => {
    const done = store.load().done;
    const isDone = (key: string) => Object.hasOwn(done, key);
    for (const el of document.querySelectorAll<HTMLElement>('[data-progress]')) {
      const keys = el.dataset.progress!.split(' ').filter(Boolean);
      el.textContent = keys.length ? fill(el.dataset.progressTemplate ?? '', { done: keys.filter(isDone).length, total: keys.length }) : '';
    }
    for (const section of document.querySelectorAll<HTMLElement>('[data-challenge-key]')) {
      section.toggleAttribute('data-done', isDone(section.dataset.challengeKey!));
    }
    const any = Object.keys(done).length > 0;
    for (const reset of document.querySelectorAll<HTMLElement>('[data-progress-reset]')) reset.hidden = !any;
  };
  for (const button of document.querySelectorAll<HTMLButtonElement>('[data-progress-reset]')) {
    button.addEventListener('click', () => {
      if (!confirm(button.dataset.confirm ?? '')) return;
      store.reset();
      const status = document.querySelector<HTMLElement>('[data-progress-status]');
      if (status) status.textContent = button.dataset.done ?? '';
    });
  }
  render();
  addEventListener(progressEvent, render);
  addEventListener('storage', (event: StorageEvent) => {
    if (event.key === progressKey || event.key === null) render();
  });
}
