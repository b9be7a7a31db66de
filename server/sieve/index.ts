/**
 * The Sieve interpreter (RFC 5228 and extensions): compile a script once (errors with line and
 * column), run it against a message to get the actions delivery performs.
 */
export type { SieveAction, SieveResult, StoreAction, VacationAction } from './actions.ts';
export { SieveCompileError, SieveRuntimeError } from './errors.ts';
export { SUPPORTED_EXTENSIONS } from './extensions.ts';
export { runScripts } from './interpreter.ts';
export { messageWithHeaders, SieveMessage } from './message.ts';
export { DEFAULT_LIMITS, type SieveEnvironment, type SieveLimits } from './runtime.ts';
export { checkScript, compileScript, type CompiledScript, type CompileOptions } from './script.ts';
