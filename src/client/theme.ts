/**
 * Dark/light theme. With no stored choice the page follows the system; once the
 * reader toggles, the choice is stored and applied before paint by BaseLayout's
 * inline script. Theme colours live in CSS; this only flips `data-theme`.
 */
type Theme = 'light' | 'dark';
const storageKey = 'asynclab:theme';
const systemDark = window.matchMedia('(prefers-color-scheme: dark)');

function effectiveTheme(): Theme {
  const chosen = document.documentElement.dataset.theme;
  if (chosen === 'light' || chosen === 'dark') return chosen;
  return systemDark.matches ? 'dark' : 'light';
}

function label(button: HTMLButtonElement): void {
  const current = effectiveTheme();
  const dark = current === 'dark';
  button.dataset.effective = current;
  const next = dark ? button.dataset.labelToLight : button.dataset.labelToDark;
  if (next) {
    button.setAttribute('aria-label', next);
    button.title = next;
  }
}

export function initThemeToggle(): void {
  for (const button of document.querySelectorAll<HTMLButtonElement>('[data-theme-toggle]')) {
    label(button);
    button.hidden = false;
    button.addEventListener('click', () => {
      const next: Theme = effectiveTheme() === 'dark' ? 'light' : 'dark';
      document.documentElement.dataset.theme = next;
      try {
        localStorage.setItem(storageKey, next);
      } catch {
        // Storage can be disabled (private mode); the toggle still works for this page.
      }
      label(button);
    });
    systemDark.addEventListener('change', () => label(button));
  }
}
