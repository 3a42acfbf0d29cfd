import type { PageDefinition } from '../router.js';
import { el } from '../ui.js';

export const digitsPage: PageDefinition = {
  path: 'digits',
  title: 'Digits',
  blurb: '',
  mount(root) {
    root.append(el('h1', {}, 'Digits'));
  },
};
