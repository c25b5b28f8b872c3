// Types of what the server imports from operations.mjs (the OpenAPI document's operationIds).

/** The SDK name of each operation (`resource.method`) and, for the main resources, the model it returns. */
export const OPERATION_NAMES: Record<string, [string] | [string, string]>;
/** `snake_case` as `camelCase`. */
export function camel(snake: string): string;
/** `snake_case` as `PascalCase`. */
export function pascal(snake: string): string;
/** The `operationId` of the operation `method path` (see operations.mjs). */
export function operationIdOf(method: string, path: string, tags?: string[]): string;
/** The document with every operation's `operationId` set; changed in place. */
export function withOperationIds<T extends { paths?: unknown }>(document: T): T;
