/** The visibility checker on the MongoDB stand-in (see visibility-suite.ts). */
import { visibilitySuite } from './visibility-suite.ts';

visibilitySuite('mongodb');
