/**
 * Building DOM nodes. Text always goes in through `textContent`, never as markup: job args,
 * kinds, queue names and errors come from the application and are untrusted.
 */

type Child = Node | string | null | undefined | false;

/** An element with attributes (`class`, `href`, `data-*`, …) and children; strings become text nodes. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | boolean | undefined> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    el.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) el.append(child);
  return el;
}

/** A button that runs `action`, disabled while it runs. */
export function button(label: string, action: () => Promise<void> | void, attrs: Record<string, string | boolean | undefined> = {}): HTMLButtonElement {
  const b = h('button', { type: 'button', ...attrs }, label);
  b.addEventListener('click', async () => {
    b.disabled = true;
    try {
      await action();
    } catch (error) {
      showError(error);
    } finally {
      b.disabled = false;
    }
  });
  return b;
}

/** A date as local time, or a dash. */
export function when(iso: string | null): string {
  if (!iso) return '–';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/** Shows a failed request in the status line at the top of the page. */
export function showError(error: unknown): void {
  const line = document.getElementById('status');
  if (line) {
    line.textContent = error instanceof Error ? error.message : String(error);
    line.className = 'error';
  }
}

/** Shows a notice (the result of an action) in the status line. */
export function showNotice(text: string): void {
  const line = document.getElementById('status');
  if (line) {
    line.textContent = text;
    line.className = 'notice';
  }
}
