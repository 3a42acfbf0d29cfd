import type { PageDefinition } from '../router.js';
import { el } from '../ui.js';

export const trainPage: PageDefinition = {
  path: 'train',
  title: 'Train',
  blurb: '',
  mount(root) {
    root.append(el('h1', {}, 'Train'));
  },
};
