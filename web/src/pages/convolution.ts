import type { PageDefinition } from '../router.js';
import { el } from '../ui.js';

export const convolutionPage: PageDefinition = {
  path: 'convolution',
  title: 'Convolution',
  blurb: '',
  mount(root) {
    root.append(el('h1', {}, 'Convolution'));
  },
};
