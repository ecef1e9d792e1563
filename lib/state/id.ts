// Container ids become path components under --root, so they are checked before any path is
// built from them: runc's alphabet, no "." or "..", bounded length.
import { CapsaError } from '../errors';

const ID = /^[\w+\-.]+$/;
export const MAX_ID_LENGTH = 1024;

export function checkId(id: string | undefined): string {
  if (!id) throw new CapsaError('container id', 'container id cannot be empty');
  if (id.length > MAX_ID_LENGTH)
    throw new CapsaError('container id', `is ${id.length} characters long, at most ${MAX_ID_LENGTH} are allowed`, JSON.stringify(id.slice(0, 32) + '...'));
  if (!ID.test(id) || id === '.' || id === '..')
    throw new CapsaError('container id', 'invalid id format: only letters, digits, "_", "+", "-" and "." are allowed, and not "." or ".."', JSON.stringify(id));
  return id;
}
