import { useEffect, useRef } from 'preact/hooks';
import type { ChatApp } from '../state/chat-app.js';
import { LeadField } from './LeadField.js';

const CONSENT_ID = 'wisp-lead-consent';

/**
 * The owner's lead form, shown when its trigger is reached. Validated here first (the server
 * checks again and its per-field messages land on the same fields); focus moves into it when
 * it appears and to the first field to fix after a failed send.
 */
export function LeadForm({ app }: { app: ChatApp }) {
  const { lead } = app;
  const phase = lead.phase.value;
  const capture = app.store.settings.value.leadCapture;
  const form = useRef<HTMLFormElement>(null);
  const shown = phase === 'form' || phase === 'sending';

  useEffect(() => {
    if (shown) form.current?.querySelector('input')?.focus();
  }, [shown]);

  if (!capture.enabled || phase === 'hidden' || phase === 'dismissed') return null;
  if (phase === 'thanks') {
    return (
      <p class="lead-thanks" role="status">
        {app.t('lead.thanks')}
      </p>
    );
  }

  const errors = lead.errors.value;
  const formError = lead.formError.value;
  // A form with required fields asked before the first message is the price of chatting: no way around it.
  const dismissible = lead.reason.value !== 'before_first_message' || !capture.fields.some((f) => f.required);
  // The composer is looked up while the form is on screen (once it is gone, so is the way to the
  // panel) and focused after the re-render that removes the form.
  const composerFocuser = () => {
    const composer = form.current?.closest('.panel')?.querySelector('textarea');
    return () => setTimeout(() => composer?.focus());
  };

  return (
    <form
      ref={form}
      class="lead"
      noValidate
      aria-labelledby="wisp-lead-title"
      onSubmit={(event) => {
        event.preventDefault();
        if (lead.phase.peek() === 'sending') return;
        const data = new FormData(event.currentTarget);
        const values: Record<string, string> = {};
        for (const field of capture.fields) values[field.key] = String(data.get(field.key) ?? '');
        const focusComposer = composerFocuser();
        void lead.submit(app.connection, values, data.get('consent') !== null).then((sent) => {
          if (sent) return focusComposer();
          // After the re-render that marks the fields: the first one to fix, else the form's message.
          setTimeout(() => form.current?.querySelector<HTMLElement>('[aria-invalid="true"], .lead-submit')?.focus());
        });
      }}
    >
      <p id="wisp-lead-title" class="lead-title">
        {app.t('lead.title')}
      </p>
      {capture.fields.map((field) => (
        <LeadField key={field.key} field={field} error={errors[field.key]} />
      ))}
      {capture.consentText && (
        <div class="lead-field">
          <div class="lead-consent">
            <input
              id={CONSENT_ID}
              name="consent"
              type="checkbox"
              required
              aria-invalid={errors.consent ? 'true' : undefined}
              aria-describedby={errors.consent ? `${CONSENT_ID}-error` : undefined}
            />
            <label for={CONSENT_ID}>
              {capture.consentText}
              <span aria-hidden="true"> *</span>
            </label>
          </div>
          {errors.consent && (
            <p id={`${CONSENT_ID}-error`} class="error">
              {errors.consent}
            </p>
          )}
        </div>
      )}
      {formError && (
        <p class="error" role="alert">
          {formError}
        </p>
      )}
      <div class="lead-actions">
        <button type="submit" class="lead-submit" aria-disabled={phase === 'sending' ? 'true' : undefined}>
          {app.t('lead.submit')}
        </button>
        {dismissible && (
          <button
            type="button"
            class="lead-dismiss"
            onClick={() => {
              const focusComposer = composerFocuser();
              lead.dismiss(app.connection);
              focusComposer();
            }}
          >
            {app.t('lead.dismiss')}
          </button>
        )}
      </div>
    </form>
  );
}
