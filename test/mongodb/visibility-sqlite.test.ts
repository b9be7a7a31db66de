/** The visibility checker on the embedded engine (see visibility-suite.ts). */
import { visibilitySuite } from './visibility-suite.ts';

visibilitySuite('sqlite');
