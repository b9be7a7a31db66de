/** Gmail-like filters, forwarding and vacation, kept as one generated Sieve script. */
export * from './model.ts';
export { generateScript, readScript, MANAGED_SCRIPT_NAME, type ScriptOrigin } from './generate.ts';
export { dryRun, type DryRunMessage, type DryRunResult } from './dry-run.ts';
export {
  FiltersConflict,
  loadFilters,
  saveFilters,
  testFilters,
  updateFilters,
  type FiltersState,
  type UserFilters,
} from './user-filters.ts';
