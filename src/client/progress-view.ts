/**
 * Progress on every page that lists lessons (issue 19): "3 of 5 challenges" beside each
 * lesson that has challenges, "Opened" on the lessons read before, a mark on the challenges
 * already done, the home page's one-line summary, the lesson recorded as visited, and the
 * reset. All from localStorage (progress-store.ts); updated when the reader finishes a
 * challenge in this tab or opens a lesson in another. A few hundred bytes: no sandbox code.
 *
 * The markup says what to fill: `[data-progress]` (challenge keys) with its template,
 * `[data-lesson-link]` (a lesson's slug) holding a hidden `[data-visited-mark]`, and
 * `[data-course-summary]` with the course's lesson slugs and challenge keys.
 */
import { progressEvent, progressKey, progressStore } from './progress-store.ts';

const words = (list: string | undefined) => (list ?? '').split(' ').filter(Boolean);
const fill = (template: string, values: Record<string, number>) => template.replace(/\{(\w+)\}/g, (_, k: string) => String(values[k] ?? ''));

export function showProgress(): void {
  const store = progressStore();
  const lesson = document.querySelector<HTMLElement>('[data-lesson]')?.dataset.lesson;
  if (lesson) store.markVisited(lesson);
  const render = () => {
    const { done, visited } = store.load();
    const isDone = (key: string) => Object.hasOwn(done, key);
    const wasVisited = (slug: string) => Object.hasOwn(visited, slug);
    for (const el of document.querySelectorAll<HTMLElement>('[data-progress]')) {
      const keys = words(el.dataset.progress);
      el.textContent = keys.length ? fill(el.dataset.progressTemplate ?? '', { done: keys.filter(isDone).length, total: keys.length }) : '';
    }
    for (const link of document.querySelectorAll<HTMLElement>('[data-lesson-link]')) {
      const seen = wasVisited(link.dataset.lessonLink ?? '');
      link.toggleAttribute('data-visited', seen);
      const mark = link.querySelector<HTMLElement>('[data-visited-mark]');
      if (mark) mark.hidden = !seen;
    }
    for (const section of document.querySelectorAll<HTMLElement>('[data-challenge-key]')) {
      section.toggleAttribute('data-done', isDone(section.dataset.challengeKey!));
    }
    const any = Object.keys(done).length > 0 || Object.keys(visited).length > 0;
    for (const el of document.querySelectorAll<HTMLElement>('[data-course-summary]')) {
      const lessons = words(el.dataset.lessons);
      const keys = words(el.dataset.challenges);
      // Said only once there is something to say: a first visit gets no "0 of 17".
      el.textContent = any
        ? fill(el.dataset.courseSummary ?? '', {
            visited: lessons.filter(wasVisited).length,
            lessons: lessons.length,
            done: keys.filter(isDone).length,
            total: keys.length,
          })
        : '';
    }
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
