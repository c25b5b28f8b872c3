import { ErrorMessage, Loading, type Loaded } from '../ui.js';

/**
 * What a loaded list says besides its rows: loading (the first time), why it failed (or `error`, a
 * failed change to one of its rows), and `empty` when it has no rows.
 */
export function ListStatus({
  list,
  error,
  empty,
}: {
  list: Loaded<{ items: unknown[] }>;
  error?: string | null;
  empty?: string;
}) {
  return (
    <>
      <Loading when={list.loading && !list.data} />
      <ErrorMessage error={list.error ?? error} />
      {empty !== undefined && list.data?.items.length === 0 ? <p class="muted">{empty}</p> : null}
    </>
  );
}
