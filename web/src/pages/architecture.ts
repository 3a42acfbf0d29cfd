import type { PageDefinition } from '../router.js';
import { el } from '../ui.js';

export const architecturePage: PageDefinition = {
  path: 'architecture',
  title: 'Architecture',
  blurb: '',
  mount(root) {
    root.append(el('h1', {}, 'Architecture'));
  },
};
