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

/** One operation as the SDKs generate it. */
export interface SdkOperation {
  resource: string;
  name: string;
  method: string;
  path: string;
  summary: string;
  public: boolean;
  pathParams: string[];
  query: { name: string; required: boolean; type: string }[];
  paginated: boolean;
  body: string | null;
  messageId: boolean;
  produces: 'json' | 'text';
  model: string | null;
}
/** The operations of an OpenAPI 3.1 document and its named models as an OpenAPI 3.0 document. */
export function extractOperations(document: unknown): { operations: SdkOperation[]; modelsDocument: unknown };
