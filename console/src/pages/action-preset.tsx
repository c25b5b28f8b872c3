import { useState } from 'preact/hooks';
import type { ActionDto } from '../../../shared/schemas/actions.js';
import { api } from '../api.js';
import { ErrorMessage, Field, TextInput, useAction } from '../ui.js';

interface PresetField {
  key: string;
  label: string;
  hint?: string;
  secret?: boolean;
  placeholder?: string;
  /** Left out of the body when empty, so the API's default applies. */
  optional?: boolean;
}

/** The vendor presets the API fills from a few fields (`POST /chatbots/:id/actions/presets`). */
const PRESETS: Record<string, { label: string; fields: PresetField[] }> = {
  shopify_order_status: {
    label: 'Shopify: order status',
    fields: [
      { key: 'baseUrl', label: 'Shop address', placeholder: 'https://your-shop.myshopify.com' },
      { key: 'accessToken', label: 'Admin API access token', secret: true },
      { key: 'apiVersion', label: 'API version', placeholder: '2024-10', optional: true },
    ],
  },
  stripe_subscription_status: {
    label: 'Stripe: subscription status',
    fields: [
      { key: 'secretKey', label: 'Secret key', hint: 'A restricted key that reads subscriptions.', secret: true },
      { key: 'baseUrl', label: 'API address', placeholder: 'https://api.stripe.com', optional: true },
    ],
  },
  calendly_scheduling_link: {
    label: 'Calendly: scheduling link',
    fields: [
      { key: 'accessToken', label: 'Personal access token', secret: true },
      { key: 'eventType', label: 'Event type URI', placeholder: 'https://api.calendly.com/event_types/…' },
      { key: 'baseUrl', label: 'API address', placeholder: 'https://api.calendly.com', optional: true },
    ],
  },
};

/** A vendor action from a preset: the credentials go to the server once and are never shown back. */
export function PresetForm({ botId, onSaved }: { botId: string; onSaved: (saved: ActionDto) => void }) {
  const [preset, setPreset] = useState('shopify_order_status');
  const [values, setValues] = useState<Record<string, string>>({});
  const save = useAction();
  const spec = PRESETS[preset]!;
  return (
    <form
      class="card"
      aria-label="New action from a preset"
      onSubmit={async (e) => {
        e.preventDefault();
        await save.run(async () => {
          const body: Record<string, string> = { preset };
          for (const field of spec.fields) {
            const value = values[field.key]?.trim() ?? '';
            if (value || !field.optional) body[field.key] = value;
          }
          onSaved(await api<ActionDto>('POST', `/chatbots/${botId}/actions/presets`, body));
          setValues({});
        });
      }}
    >
      <h3>From a preset</h3>
      <Field label="Preset">
        {(p) => (
          <select
            {...p}
            value={preset}
            onChange={(e) => {
              setPreset(e.currentTarget.value);
              setValues({});
            }}
          >
            {Object.entries(PRESETS).map(([id, { label }]) => (
              <option key={id} value={id}>
                {label}
              </option>
            ))}
          </select>
        )}
      </Field>
      {spec.fields.map((field) => (
        <Field key={`${preset}-${field.key}`} label={field.label} hint={field.hint}>
          {(p) => (
            <TextInput
              {...p}
              secret={field.secret}
              required={!field.optional}
              placeholder={field.placeholder}
              value={values[field.key] ?? ''}
              onInput={(e) => setValues({ ...values, [field.key]: e.currentTarget.value })}
            />
          )}
        </Field>
      ))}
      <ErrorMessage error={save.error} />
      <button type="submit" class="primary" disabled={save.busy}>
        Add preset action
      </button>
    </form>
  );
}
