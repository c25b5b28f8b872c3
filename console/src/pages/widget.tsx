import { useEffect, useRef, useState } from 'preact/hooks';
import type { WidgetSettings, WidgetSettingsState } from '../../../shared/schemas/widget-settings.js';
import { toWidgetConfig } from '../../../shared/widget-config.js';
import { api, hasScope } from '../api.js';
import { chosenBot } from '../state.js';
import { OkMessage } from '../components/OkMessage.js';
import { CopyButton, ErrorMessage, Field, Loading, useAction, useLoad } from '../ui.js';

type LeadCapture = WidgetSettings['leadCapture'];
type LeadFieldSetting = LeadCapture['fields'][number];
const CSS_VARIABLES = [
  ['--wisp-radius', 'Corner radius'],
  ['--wisp-font-size', 'Font size'],
  ['--wisp-panel-width', 'Panel width'],
  ['--wisp-panel-height', 'Panel height'],
  ['--wisp-bubble-size', 'Launcher size'],
] as const;

const linesOf = (text: string) =>
  text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);

function stringsToText(strings: Record<string, string>): string {
  return Object.entries(strings)
    .map(([key, value]) => `${key} = ${value}`)
    .join('\n');
}

function textToStrings(text: string): Record<string, string> {
  const strings: Record<string, string> = {};
  for (const line of linesOf(text)) {
    const eq = line.indexOf('=');
    if (eq > 0) strings[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return strings;
}

/** The embed snippet an owner pastes into their site. */
function snippetOf(botId: string): string {
  return `<script src="${location.origin}/widget.js" data-bot="${botId}" async></script>`;
}

function LeadFieldsEditor({
  fields,
  onChange,
}: {
  fields: LeadFieldSetting[];
  onChange: (f: LeadFieldSetting[]) => void;
}) {
  const update = (index: number, patch: Partial<LeadFieldSetting>) =>
    onChange(fields.map((field, i) => (i === index ? { ...field, ...patch } : field)));
  return (
    <fieldset>
      <legend>Lead form fields</legend>
      {fields.map((field, index) => (
        <div class="row wrap" key={index}>
          <Field label={`Field ${index + 1} key`}>
            {(p) => (
              <input
                {...p}
                size={10}
                value={field.key}
                onInput={(e) => update(index, { key: e.currentTarget.value })}
              />
            )}
          </Field>
          <Field label="Label">
            {(p) => (
              <input
                {...p}
                size={14}
                value={field.label}
                onInput={(e) => update(index, { label: e.currentTarget.value })}
              />
            )}
          </Field>
          <Field label="Type">
            {(p) => (
              <select
                {...p}
                value={field.type}
                onChange={(e) => update(index, { type: e.currentTarget.value as LeadFieldSetting['type'] })}
              >
                {['name', 'email', 'phone', 'company', 'text'].map((t) => (
                  <option key={t}>{t}</option>
                ))}
              </select>
            )}
          </Field>
          <label class="check">
            <input
              type="checkbox"
              checked={field.required}
              onChange={(e) => update(index, { required: e.currentTarget.checked })}
            />{' '}
            Required
          </label>
          <button type="button" onClick={() => onChange(fields.filter((_, i) => i !== index))}>
            Remove field {index + 1}
          </button>
        </div>
      ))}
      <button
        type="button"
        disabled={fields.length >= 10}
        onClick={() =>
          onChange([...fields, { key: `field_${fields.length + 1}`, label: 'Email', type: 'text', required: false }])
        }
      >
        Add field
      </button>
    </fieldset>
  );
}

function WidgetForm({ state, onSaved }: { state: WidgetSettingsState; onSaved: (s: WidgetSettingsState) => void }) {
  const bot = chosenBot.value!;
  // The draft survives a failed save; it is what the preview shows.
  const [draft, setDraft] = useState<WidgetSettings>(state.settings);
  const [prompts, setPrompts] = useState(state.settings.quickPrompts.join('\n'));
  const [strings, setStrings] = useState(stringsToText(state.settings.strings));
  const [saved, setSaved] = useState<string | null>(null);
  const action = useAction();
  const frame = useRef<HTMLIFrameElement>(null);
  const set = (patch: Partial<WidgetSettings>) => {
    setSaved(null);
    setDraft({ ...draft, ...patch });
  };
  const setLead = (patch: Partial<LeadCapture>) => set({ leadCapture: { ...draft.leadCapture, ...patch } });
  const full: WidgetSettings = { ...draft, quickPrompts: linesOf(prompts), strings: textToStrings(strings) };

  // The preview follows the draft as it is typed (a quarter second after the last change).
  const post = () =>
    frame.current?.contentWindow?.postMessage(
      { type: 'wisp-preview', config: toWidgetConfig({ _id: bot.id, slug: bot.slug, name: bot.name }, full) },
      location.origin,
    );
  useEffect(() => {
    const timer = setTimeout(post, 250);
    return () => clearTimeout(timer);
  }, [JSON.stringify(full)]);
  useEffect(() => {
    const ready = (event: MessageEvent<{ type?: string }>) => {
      if (event.origin === location.origin && event.data?.type === 'wisp-preview-ready') post();
    };
    window.addEventListener('message', ready);
    return () => window.removeEventListener('message', ready);
  });

  const canWrite = hasScope('settings:write');
  const { allowedOrigins: _origins, ...patch } = full;
  const text = (label: string, key: 'welcomeMessage' | 'inputPlaceholder' | 'locale', hint?: string) => (
    <Field label={label} hint={hint}>
      {(p) => <input {...p} value={draft[key]} onInput={(e) => set({ [key]: e.currentTarget.value })} />}
    </Field>
  );
  const toggle = (label: string, key: 'openOnLoad' | 'showCitations' | 'showPoweredBy') => (
    <label class="check">
      <input type="checkbox" checked={draft[key]} onChange={(e) => set({ [key]: e.currentTarget.checked })} /> {label}
    </label>
  );
  const nullableUrl = (label: string, key: 'launcherIconUrl' | 'avatarUrl') => (
    <Field label={label}>
      {(p) => (
        <input
          {...p}
          type="url"
          value={draft[key] ?? ''}
          onInput={(e) => set({ [key]: e.currentTarget.value.trim() || null })}
        />
      )}
    </Field>
  );
  return (
    <div class="widget-editor">
      <form
        class="card"
        aria-label="Widget settings"
        onSubmit={async (e) => {
          e.preventDefault();
          await action.run(async () => {
            const next = await api<WidgetSettingsState>('PATCH', `/chatbots/${bot.id}/widget-settings`, patch);
            onSaved(next);
            setSaved(`Saved (version ${next.version}). Open widgets restyle at once.`);
          });
        }}
      >
        <fieldset>
          <legend>Look</legend>
          <div class="grid2">
            <Field label="Primary color">
              {(p) => (
                <input
                  {...p}
                  type="color"
                  value={draft.primaryColor}
                  onInput={(e) => set({ primaryColor: e.currentTarget.value })}
                />
              )}
            </Field>
            <Field label="Text color" hint="Empty: black or white, whichever reads better.">
              {(p) => (
                <input
                  {...p}
                  placeholder="#ffffff"
                  value={draft.textColor ?? ''}
                  onInput={(e) => set({ textColor: e.currentTarget.value.trim() || null })}
                />
              )}
            </Field>
            <Field label="Theme">
              {(p) => (
                <select
                  {...p}
                  value={draft.theme}
                  onChange={(e) => set({ theme: e.currentTarget.value as WidgetSettings['theme'] })}
                >
                  <option value="auto">Follow the visitor</option>
                  <option value="light">Light</option>
                  <option value="dark">Dark</option>
                </select>
              )}
            </Field>
            <Field label="Position">
              {(p) => (
                <select
                  {...p}
                  value={draft.position}
                  onChange={(e) => set({ position: e.currentTarget.value as WidgetSettings['position'] })}
                >
                  <option value="bottom-right">Bottom right</option>
                  <option value="bottom-left">Bottom left</option>
                </select>
              )}
            </Field>
            <Field label="Horizontal offset (px)">
              {(p) => (
                <input
                  {...p}
                  type="number"
                  min={0}
                  max={200}
                  value={draft.offsetX}
                  onInput={(e) => set({ offsetX: Number(e.currentTarget.value) })}
                />
              )}
            </Field>
            <Field label="Vertical offset (px)">
              {(p) => (
                <input
                  {...p}
                  type="number"
                  min={0}
                  max={200}
                  value={draft.offsetY}
                  onInput={(e) => set({ offsetY: Number(e.currentTarget.value) })}
                />
              )}
            </Field>
            {nullableUrl('Launcher icon URL', 'launcherIconUrl')}
            {nullableUrl('Avatar URL', 'avatarUrl')}
            {CSS_VARIABLES.map(([variable, label]) => (
              <Field key={variable} label={label} hint="A length like 12px or 1rem; empty for the default.">
                {(p) => (
                  <input
                    {...p}
                    value={draft.cssVariables[variable] ?? ''}
                    onInput={(e) => {
                      const value = e.currentTarget.value.trim();
                      const next = { ...draft.cssVariables };
                      if (value) next[variable] = value;
                      else delete next[variable];
                      set({ cssVariables: next });
                    }}
                  />
                )}
              </Field>
            ))}
          </div>
        </fieldset>
        <fieldset>
          <legend>Words</legend>
          <Field label="Display name" hint="Empty: the bot's name.">
            {(p) => (
              <input
                {...p}
                value={draft.displayName ?? ''}
                onInput={(e) => set({ displayName: e.currentTarget.value.trim() || null })}
              />
            )}
          </Field>
          {text('Welcome message', 'welcomeMessage')}
          {text('Input placeholder', 'inputPlaceholder')}
          <Field label="Quick prompts" hint="One per line, at most 6.">
            {(p) => <textarea {...p} rows={3} value={prompts} onInput={(e) => setPrompts(e.currentTarget.value)} />}
          </Field>
          {text('Language', 'locale', 'A locale like en or de-CH.')}
          <Field label="Interface strings" hint="One per line: key = text.">
            {(p) => <textarea {...p} rows={3} value={strings} onInput={(e) => setStrings(e.currentTarget.value)} />}
          </Field>
        </fieldset>
        <fieldset>
          <legend>Behaviour</legend>
          {toggle('Open on load', 'openOnLoad')}
          {toggle('Show citations', 'showCitations')}
          {toggle('Show "Powered by Wisp"', 'showPoweredBy')}
        </fieldset>
        <fieldset>
          <legend>Lead capture</legend>
          <label class="check">
            <input
              type="checkbox"
              checked={draft.leadCapture.enabled}
              onChange={(e) => setLead({ enabled: e.currentTarget.checked })}
            />{' '}
            Ask visitors for their details
          </label>
          <div class="grid2">
            <Field label="When">
              {(p) => (
                <select
                  {...p}
                  value={draft.leadCapture.trigger}
                  onChange={(e) => setLead({ trigger: e.currentTarget.value as LeadCapture['trigger'] })}
                >
                  <option value="before_first_message">Before the first message</option>
                  <option value="after_messages">After some messages</option>
                  <option value="cannot_answer">When the bot cannot answer</option>
                  <option value="human_requested">When a human is asked for</option>
                </select>
              )}
            </Field>
            <Field label="After messages">
              {(p) => (
                <input
                  {...p}
                  type="number"
                  min={1}
                  max={50}
                  value={draft.leadCapture.afterMessages}
                  onInput={(e) => setLead({ afterMessages: Number(e.currentTarget.value) })}
                />
              )}
            </Field>
          </div>
          <Field label="Consent text">
            {(p) => (
              <input
                {...p}
                value={draft.leadCapture.consentText ?? ''}
                onInput={(e) => setLead({ consentText: e.currentTarget.value.trim() || null })}
              />
            )}
          </Field>
          <label class="check">
            <input
              type="checkbox"
              checked={draft.leadCapture.askEmailWhenUnanswered}
              onChange={(e) => setLead({ askEmailWhenUnanswered: e.currentTarget.checked })}
            />{' '}
            Ask for an email when a question goes unanswered
          </label>
          <LeadFieldsEditor fields={draft.leadCapture.fields} onChange={(fields) => setLead({ fields })} />
        </fieldset>
        <ErrorMessage error={action.error} />
        <OkMessage message={saved} />
        <button type="submit" class="primary" disabled={!canWrite || action.busy}>
          {action.busy ? 'Saving…' : 'Save widget settings'}
        </button>
        {!canWrite ? <p class="muted">Saving needs a key with the settings:write scope.</p> : null}
      </form>
      <aside class="preview" aria-label="Preview and embed code">
        <h2>Preview</h2>
        <iframe
          ref={frame}
          src="/console/preview.html"
          title="Widget preview (unsaved changes)"
          class="preview-frame"
        />
        <h2>Embed code</h2>
        <pre>
          <code>{snippetOf(bot.id)}</code>
        </pre>
        <CopyButton text={snippetOf(bot.id)} label="Copy embed code" />
      </aside>
    </div>
  );
}

export function WidgetPage() {
  const bot = chosenBot.value;
  const state = useLoad(
    () => (bot ? api<WidgetSettingsState>('GET', `/chatbots/${bot.id}/widget-settings`) : Promise.resolve(null)),
    [bot?.id],
  );
  if (!bot) return <p>Create a bot first, on the Bots page.</p>;
  return (
    <>
      <Loading when={state.loading && !state.data} />
      <ErrorMessage error={state.error} />
      {state.data ? <WidgetForm key={bot.id} state={state.data} onSaved={() => undefined} /> : null}
    </>
  );
}
