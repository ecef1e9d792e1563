// Reads a bundle's config.json and checks it: every problem found is reported at once.
import { join } from 'node:path';
import { CapsaError } from '../errors';
import { parseJsonFile } from './parse';
import type { Spec } from './types';
import { validateConfig } from './validate';

export function loadConfig(bundle: string): Spec {
  const doc = parseJsonFile(join(bundle, 'config.json'), 'config.json');
  const problems = validateConfig(doc, { requireProcess: true });
  if (problems.length)
    throw new CapsaError('config.json', problems.map((p) => `${p.pointer || '/'}: ${p.reason}`).join('; '));
  return doc as Spec;
}
