/** Argument checks shared by the engines' progress marks (see Store.getProgressMark). */
import { StoreError } from './errors.ts';

export function checkMarkName(name: string): string {
  if (typeof name !== 'string' || name === '' || name.length > 200) {
    throw new StoreError('INVALID', 'a progress mark name is 1..200 characters');
  }
  return name;
}

export function checkMarkValue(value: number | null): number | null {
  if (value !== null && (!Number.isSafeInteger(value) || value < 0)) {
    throw new StoreError('INVALID', `a progress mark is a non-negative integer, got ${value}`);
  }
  return value;
}
