import type { paths } from './generated/schema.js';

// A route's request and answer types, read from the types openapi-typescript generated for it.

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type Operation<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;
type JsonContent<R> = R extends { content: { 'application/json': infer J } } ? J : never;
type SuccessResponse<O> = O extends { responses: infer R } ? JsonContent<R[Extract<keyof R, 200 | 201 | 202>]> : never;

/** The `data` of a route's success envelope. */
export type DataOf<P extends keyof paths, M extends Method> =
  SuccessResponse<Operation<P, M>> extends { data: infer D } ? D : never;
/** One item of a list route's `data`. */
export type ItemOf<P extends keyof paths> = DataOf<P, 'get'> extends Array<infer I> ? I : never;
/** A route's JSON request body. */
export type BodyOf<P extends keyof paths, M extends Method> =
  NonNullable<Operation<P, M>['requestBody']> extends { content: { 'application/json': infer B } } ? B : never;
/** A route's query parameters. */
export type QueryOf<P extends keyof paths, M extends Method> =
  Operation<P, M> extends {
    parameters: { query?: infer Q };
  }
    ? NonNullable<Q>
    : never;
