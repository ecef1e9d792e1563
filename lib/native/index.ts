// Loads the addon built by node-gyp; its surface is declared in ./api.d.ts.
import { addonPath } from '../paths';
import type { Native } from './api';

let loaded: Native | undefined;

/** The addon, loaded on first use so commands that do not need it never pay for it. */
export function native(): Native {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (loaded ??= require(addonPath) as Native);
}
