import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { ComponentChildren, JSX } from 'preact';
import { messageOf } from './api.js';

export interface Loaded<T> {
  data: T | undefined;
  error: string | null;
  loading: boolean;
  reload: () => Promise<void>;
}

/** Loads data for a page; `reload` fetches again (after a change). A failure keeps the last data and says why. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const latest = useRef(0);
  const reload = useCallback(async () => {
    const call = (latest.current += 1);
    setLoading(true);
    try {
      const value = await load();
      if (call !== latest.current) return;
      setData(value);
      setError(null);
    } catch (failure) {
      if (call === latest.current) setError(messageOf(failure));
    } finally {
      if (call === latest.current) setLoading(false);
    }
  }, deps);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, error, loading, reload };
}

/**
 * Runs a change (save, delete…) and remembers its failure: the form keeps what was typed, and the
 * API's message is shown beside it.
 */
export function useAction(): {
  busy: boolean;
  error: string | null;
  run: (action: () => Promise<unknown>) => Promise<boolean>;
  clear: () => void;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = useCallback(async (action: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
      return true;
    } catch (failure) {
      setError(messageOf(failure));
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run, clear: () => setError(null) };
}

export function ErrorMessage({ error }: { error: string | null | undefined }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {error}
    </p>
  );
}

export function Loading({ when }: { when: boolean }) {
  return when ? (
    <p class="muted" role="status">
      Loading…
    </p>
  ) : null;
}

let fieldCount = 0;
/** A stable id for a label's control. */
export function useId(prefix: string): string {
  const id = useRef<string | null>(null);
  id.current ??= `${prefix}-${(fieldCount += 1)}`;
  return id.current;
}

/** A labelled control; the hint is read with it. */
export function Field({
  label,
  hint,
  children,
}: {
  label: string;
  hint?: string;
  children: (props: { id: string; 'aria-describedby'?: string }) => JSX.Element;
}) {
  const id = useId('field');
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {children({ id, ...(hint ? { 'aria-describedby': `${id}-hint` } : {}) })}
      {hint ? (
        <small id={`${id}-hint`} class="muted">
          {hint}
        </small>
      ) : null}
    </div>
  );
}

/** A button that asks first, in a modal dialog (focus moves into it; Escape cancels). */
export function ConfirmButton({
  label,
  question,
  confirmLabel,
  onConfirm,
  class: className = 'danger',
}: {
  label: ComponentChildren;
  question: string;
  confirmLabel: string;
  onConfirm: () => void | Promise<unknown>;
  class?: string;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const titleId = useId('confirm');
  return (
    <>
      <button type="button" class={className} onClick={() => dialog.current?.showModal()}>
        {label}
      </button>
      <dialog ref={dialog} aria-labelledby={titleId} class="confirm">
        <p id={titleId}>{question}</p>
        <div class="row">
          <button type="button" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
          <button
            type="button"
            class="danger"
            onClick={() => {
              dialog.current?.close();
              void onConfirm();
            }}
          >
            {confirmLabel}
          </button>
        </div>
      </dialog>
    </>
  );
}

/** Copies text to the clipboard and says so. */
export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      onClick={() => {
        void navigator.clipboard?.writeText(text).then(() => setDone(true));
      }}
    >
      {done ? 'Copied' : label}
      <span class="visually-hidden" role="status">
        {done ? 'Copied to the clipboard' : ''}
      </span>
    </button>
  );
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** Previous / next for a paged list. */
export function Pager({
  page,
  perPage,
  total,
  onPage,
}: {
  page: number;
  perPage: number;
  total: number;
  onPage: (page: number) => void;
}) {
  const pages = Math.max(1, Math.ceil(total / perPage));
  if (pages <= 1) return null;
  return (
    <nav class="row pager" aria-label="Pages">
      <button type="button" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        Previous
      </button>
      <span>
        Page {page} of {pages}
      </span>
      <button type="button" disabled={page >= pages} onClick={() => onPage(page + 1)}>
        Next
      </button>
    </nav>
  );
}

/** A table that may scroll sideways on a phone: focusable and named, so keyboards can scroll it too. */
export function TableWrap({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-label={label}>
      {children}
    </div>
  );
}

/** A secret the API shows once (a signing secret): copy it now, it is never shown again. */
export function SecretOnce({
  title,
  secret,
  onDismiss,
  children,
}: {
  title: string;
  secret: string;
  onDismiss: () => void;
  children?: ComponentChildren;
}) {
  // Moved into view and focus, so a secret made from far down a list is not missed.
  const card = useRef<HTMLDivElement>(null);
  useEffect(() => card.current?.focus(), [secret]);
  return (
    <div class="card shown-once" role="status" tabIndex={-1} ref={card}>
      <p>
        <strong>{title}</strong>: copy this secret now. It is shown only once.
      </p>
      <code class="secret" data-testid="new-secret">
        {secret}
      </code>
      {children}
      <div class="row">
        <CopyButton text={secret} label="Copy secret" />
        <button type="button" onClick={onDismiss}>
          Done
        </button>
      </div>
    </div>
  );
}

/** Reloads every `ms` while `active` (a list with work in progress), so progress shows without a click. */
export function usePoll(active: boolean, reload: () => Promise<void>, ms = 1000): void {
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => void reload(), ms);
    return () => clearInterval(timer);
  }, [active, reload, ms]);
}

/** Parses a JSON field of a form; a mistake throws naming the field, so the form shows it beside what was typed. */
export function parseJson(label: string, text: string, fallback: unknown = undefined): unknown {
  if (!text.trim()) return fallback;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(`${label} is not valid JSON: ${messageOf(error)}`, { cause: error });
  }
}

/** A value as indented JSON for a textarea or a `<pre>`. */
export function pretty(value: unknown): string {
  return value === undefined ? '' : JSON.stringify(value, null, 2);
}

/** A text input, masked when it holds a secret (a credential typed once and never shown back). */
export function TextInput({
  secret,
  ...props
}: {
  secret?: boolean;
  id: string;
  value: string;
  onInput: (e: { currentTarget: HTMLInputElement }) => void;
  required?: boolean;
  placeholder?: string;
  'aria-describedby'?: string;
}) {
  return secret ? (
    <input {...props} type="password" autoComplete="off" spellcheck={false} />
  ) : (
    <input {...props} autoComplete="off" spellcheck={false} />
  );
}

/**
 * Keyboard focus for a panel opened in place (an edit form): the returned ref goes on the button that
 * opens it, which gets focus back when the panel closes, so a keyboard user is not dropped to the page's top.
 */
export function useFocusReturn(open: boolean) {
  const trigger = useRef<HTMLButtonElement>(null);
  const wasOpen = useRef(open);
  useEffect(() => {
    if (wasOpen.current && !open) trigger.current?.focus();
    wasOpen.current = open;
  }, [open]);
  return trigger;
}

/** Focuses the first field of a form opened in place (when `active`), where the typing starts. */
export function useFocusFirstField(active: boolean) {
  const form = useRef<HTMLFormElement>(null);
  useEffect(() => {
    if (active) form.current?.querySelector<HTMLElement>('input:not([type=hidden]), select, textarea')?.focus();
  }, [active]);
  return form;
}
