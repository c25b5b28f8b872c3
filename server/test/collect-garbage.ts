import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
/** A full collection on demand, as a busy server has them during a long wait. */
export const collectGarbage = runInNewContext('gc') as () => void;
