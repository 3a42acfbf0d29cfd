import type { PageDefinition } from '../router.js';
import { el } from '../ui.js';

export const kernelsPage: PageDefinition = {
  path: 'kernels',
  title: 'Kernels',
  blurb: '',
  mount(root) {
    root.append(el('h1', {}, 'Kernels'));
  },
};
