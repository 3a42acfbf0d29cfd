/** The pages, in the order of the navigation. */
import type { PageDefinition } from '../router.js';
import { convolutionPage } from './convolution.js';
import { kernelsPage } from './kernels.js';
import { digitsPage } from './digits.js';
import { trainPage } from './train.js';
import { architecturePage } from './architecture.js';

export const pages: readonly PageDefinition[] = [convolutionPage, kernelsPage, digitsPage, trainPage, architecturePage];
