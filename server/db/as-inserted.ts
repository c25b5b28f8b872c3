/** The two mongoose model statics `asInserted` uses, typed loosely so any model fits. */
interface Stamping {
  applyDefaults(doc: never): unknown;
  applyTimestamps(doc: never, options: never): unknown;
}

/**
 * A new document as `insertMany` would write it (the schema's defaults, timestamps and version key), built
 * without hydrating and validating a mongoose document for it, which is most of the CPU an insert of many
 * small documents costs. Only for documents whose fields were checked already (by the request's schema) and
 * built with their stored types; write them with `insertMany(docs, { lean: true })`.
 */
export function asInserted<D extends object>(model: Stamping, doc: D, now: Date): D {
  const withDefaults = model.applyDefaults({ ...doc, __v: 0 } as never);
  // mongoose types `currentTime` with its own Date schema type, not the global Date.
  return model.applyTimestamps(withDefaults as never, { currentTime: () => now } as never) as D;
}
