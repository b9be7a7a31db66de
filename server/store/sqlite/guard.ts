/** Driver failures as StoreErrors: the ones that mean "try again later" become UNAVAILABLE. */
import { isStoreError, StoreError } from '../errors.ts';

export function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw translateError(error);
  }
}

function translateError(error: unknown): unknown {
  if (isStoreError(error)) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^SQLITE_(BUSY|LOCKED|CANTOPEN|IOERR|FULL|READONLY|PROTOCOL)/.test(code)) {
    return new StoreError('UNAVAILABLE', `database unavailable (${code})`);
  }
  if (error instanceof TypeError && /database connection is not open/.test(error.message)) {
    return new StoreError('UNAVAILABLE', 'the store is closed');
  }
  return error;
}
