/**
 * The editable kernel: a 3x3 or 5x5 grid of text fields (numbers such as -1,
 * 0.25 or fractions such as 1/16), each labelled by its row and column for
 * screen readers, with arrow keys moving between cells. It reports every
 * edit with the texts of all cells; which of them parse is decided by
 * `parseWeight`, and a cell that does not is marked invalid.
 */
import { el, uniqueId } from '../ui.js';

/** A weight as typed: a decimal number or a fraction a/b; null when it is neither (or b is 0). */
export function parseWeight(text: string): number | null {
  const s = text.trim().replace(/\u2212/g, '-');
  if (s === '') return null;
  const frac = /^([-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)\s*\/\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)$/i.exec(s);
  if (frac) {
    const d = Number(frac[2]);
    return d === 0 ? null : Number(frac[1]) / d;
  }
  if (!/^[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?$/i.test(s)) return null;
  const v = Number(s);
  return Number.isFinite(v) ? v : null;
}

/** A weight as the grid writes it: integers plainly, others with up to 6 significant digits. */
export function formatWeight(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(6)));
}

export interface KernelGrid {
  root: HTMLElement;
  /** The texts of the cells, row-major. */
  texts(): string[];
  /** Replaces the grid (size and texts) without reporting an edit. */
  set(size: number, texts: readonly string[]): void;
  /** Marks the cells whose text does not parse. */
  markInvalid(invalid: readonly boolean[]): void;
}

/** The grid. `onEdit` runs on every keystroke in a cell with all cells' texts. */
export function kernelGrid(o: { size: number; texts: readonly string[]; testid?: string; onEdit(texts: string[]): void }): KernelGrid {
  const captionId = uniqueId('kgrid');
  const table = el('table', { class: 'kernel-grid', 'aria-labelledby': captionId });
  const root = el('div', { class: 'kernel-grid-box', 'data-testid': o.testid },
    el('p', { id: captionId, class: 'grid-caption' }, 'Weights (row by row; type numbers like -1, 0.5 or 1/16)'), table);
  let inputs: HTMLInputElement[] = [];
  let size = o.size;

  const focusCell = (i: number) => {
    const input = inputs[i];
    if (!input) return;
    input.focus();
    input.select();
  };

  const build = (n: number, texts: readonly string[]) => {
    size = n;
    inputs = [];
    table.replaceChildren();
    table.classList.toggle('k5', n === 5);
    for (let u = 0; u < n; u++) {
      const tr = el('tr');
      for (let v = 0; v < n; v++) {
        const i = u * n + v;
        const input = el('input', {
          type: 'text', value: texts[i] ?? '0', 'aria-label': `weight, row ${u + 1}, column ${v + 1}`,
          spellcheck: 'false', autocomplete: 'off', 'data-row': u, 'data-col': v,
        });
        if (u === (n - 1) / 2 && v === (n - 1) / 2) input.classList.add('centre');
        input.addEventListener('input', () => o.onEdit(inputs.map((x) => x.value)));
        input.addEventListener('keydown', (e) => {
          // Up and down move between rows; left and right leave the cell only at the ends of its text.
          const atStart = input.selectionStart === 0 && input.selectionEnd === 0;
          const atEnd = input.selectionStart === input.value.length;
          let next = -1;
          if (e.key === 'ArrowUp' && u > 0) next = i - n;
          else if (e.key === 'ArrowDown' && u < n - 1) next = i + n;
          else if (e.key === 'ArrowLeft' && v > 0 && atStart) next = i - 1;
          else if (e.key === 'ArrowRight' && v < n - 1 && atEnd) next = i + 1;
          if (next >= 0) {
            e.preventDefault();
            focusCell(next);
          }
        });
        inputs.push(input);
        tr.append(el('td', {}, input));
      }
      table.append(tr);
    }
  };
  build(o.size, o.texts);

  return {
    root,
    texts: () => inputs.map((x) => x.value),
    set(n, texts) {
      if (n !== size || inputs.length !== n * n) {
        const hadFocus = inputs.indexOf(document.activeElement as HTMLInputElement);
        build(n, texts);
        if (hadFocus >= 0) focusCell(Math.min(hadFocus, inputs.length - 1));
        return;
      }
      inputs.forEach((x, i) => {
        x.value = texts[i] ?? '0';
        x.setAttribute('aria-invalid', 'false');
      });
    },
    markInvalid(invalid) {
      inputs.forEach((x, i) => x.setAttribute('aria-invalid', invalid[i] ? 'true' : 'false'));
    },
  };
}
