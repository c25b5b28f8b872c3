import { useState } from 'preact/hooks';
import type { ChannelDto } from '../../../shared/schemas/channels.js';
import { api, apiPage, hasScope } from '../api.js';
import { chosenBot } from '../state.js';
import { PLATFORMS, type ChannelType } from './channel-platforms.js';
import { DeleteItemButton } from '../components/DeleteItemButton.js';
import { EditButton, useEditInPlace } from '../components/EditButton.js';
import { FormFooter } from '../components/FormFooter.js';
import { ItemLabel } from '../components/ItemLabel.js';
import { ListStatus } from '../components/ListStatus.js';
import {
  CopyButton,
  ErrorMessage,
  Field,
  SecretOnce,
  TextInput,
  formatDate,
  useAction,
  useFocusFirstField,
  useLoad,
} from '../ui.js';

function CredentialFields({
  type,
  values,
  onChange,
  required,
}: {
  type: ChannelType;
  values: Record<string, string>;
  onChange: (values: Record<string, string>) => void;
  required: boolean;
}) {
  return (
    <>
      {PLATFORMS[type].credentials.map((c) => (
        <Field key={`${type}-${c.key}`} label={c.label} hint={c.hint}>
          {(p) => (
            <TextInput
              {...p}
              secret={c.key !== 'phoneNumberId'}
              required={required && !c.optional}
              value={values[c.key] ?? ''}
              onInput={(e) => onChange({ ...values, [c.key]: e.currentTarget.value })}
            />
          )}
        </Field>
      ))}
    </>
  );
}

const filled = (values: Record<string, string>) =>
  Object.fromEntries(Object.entries(values).filter(([, value]) => value.trim() !== ''));

function NewChannel({
  botId,
  onCreated,
}: {
  botId: string;
  onCreated: (channel: ChannelDto & { signingSecret?: string }) => void;
}) {
  const [type, setType] = useState<ChannelType>('telegram');
  const [name, setName] = useState('');
  const [credentials, setCredentials] = useState<Record<string, string>>({});
  const [callbackUrl, setCallbackUrl] = useState('');
  const save = useAction();
  return (
    <form
      class="card"
      aria-label="New channel"
      onSubmit={async (e) => {
        e.preventDefault();
        await save.run(async () => {
          const body = {
            type,
            ...(name.trim() ? { name: name.trim() } : {}),
            credentials: filled(credentials),
            ...(type === 'webhook' ? { callbackUrl: callbackUrl.trim() || null } : {}),
          };
          onCreated(await api<ChannelDto & { signingSecret?: string }>('POST', `/chatbots/${botId}/channels`, body));
          setName('');
          setCredentials({});
          setCallbackUrl('');
        });
      }}
    >
      <h2>New channel</h2>
      <div class="grid2">
        <Field label="Platform">
          {(p) => (
            <select
              {...p}
              value={type}
              onChange={(e) => {
                setType(e.currentTarget.value as ChannelType);
                setCredentials({});
              }}
            >
              {Object.entries(PLATFORMS).map(([id, platform]) => (
                <option key={id} value={id}>
                  {platform.label}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Channel name" hint="Optional, e.g. Support on Telegram.">
          {(p) => <input {...p} maxLength={100} value={name} onInput={(e) => setName(e.currentTarget.value)} />}
        </Field>
      </div>
      <fieldset>
        <legend>Credentials</legend>
        <p class="muted">Checked with the platform, stored encrypted and never shown again.</p>
        <CredentialFields type={type} values={credentials} onChange={setCredentials} required />
      </fieldset>
      {type === 'webhook' ? (
        <Field label="Callback URL" hint="Where answers are POSTed. Empty: only synchronous replies.">
          {(p) => (
            <input
              {...p}
              type="url"
              maxLength={2000}
              value={callbackUrl}
              onInput={(e) => setCallbackUrl(e.currentTarget.value)}
            />
          )}
        </Field>
      ) : null}
      <p class="muted">{PLATFORMS[type].setup}</p>
      <ErrorMessage error={save.error} />
      <button type="submit" class="primary" disabled={save.busy}>
        {save.busy ? 'Connecting…' : 'Connect channel'}
      </button>
    </form>
  );
}

function EditChannel({ channel, onDone }: { channel: ChannelDto; onDone: (saved: boolean) => void }) {
  const [name, setName] = useState(channel.name);
  const [callbackUrl, setCallbackUrl] = useState(channel.callbackUrl ?? '');
  const [credentials, setCredentials] = useState<Record<string, string>>({});
  const save = useAction();
  const formRef = useFocusFirstField(true);
  return (
    <form
      ref={formRef}
      class="card"
      aria-label={`Edit channel ${channel.name}`}
      onSubmit={async (e) => {
        e.preventDefault();
        const replaced = filled(credentials);
        const ok = await save.run(() =>
          api('PATCH', `/channels/${channel.id}`, {
            name: name.trim(),
            ...(Object.keys(replaced).length ? { credentials: replaced } : {}),
            ...(channel.type === 'webhook' ? { callbackUrl: callbackUrl.trim() || null } : {}),
          }),
        );
        if (ok) onDone(true);
      }}
    >
      <Field label="Channel name">
        {(p) => <input {...p} required maxLength={100} value={name} onInput={(e) => setName(e.currentTarget.value)} />}
      </Field>
      {channel.type === 'webhook' ? (
        <Field label="Callback URL">
          {(p) => (
            <input {...p} type="url" value={callbackUrl} onInput={(e) => setCallbackUrl(e.currentTarget.value)} />
          )}
        </Field>
      ) : null}
      <fieldset>
        <legend>Replace credentials</legend>
        <p class="muted">Leave empty to keep the stored ones.</p>
        <CredentialFields type={channel.type} values={credentials} onChange={setCredentials} required={false} />
      </fieldset>
      <FormFooter error={save.error} submitLabel="Save channel" disabled={save.busy} onCancel={() => onDone(false)} />
    </form>
  );
}

function ChannelItem({ channel, onChanged }: { channel: ChannelDto; onChanged: () => void }) {
  const edit = useEditInPlace(onChanged);
  const action = useAction();
  const canWrite = hasScope('channels:write');
  if (edit.editing) {
    return (
      <li>
        <EditChannel channel={channel} onDone={(saved) => (saved ? edit.saved() : edit.cancel())} />
      </li>
    );
  }
  const connected = channel.status === 'connected';
  return (
    <li class="item">
      <div class="row wrap">
        <strong>{channel.name}</strong>
        <span class="muted">{PLATFORMS[channel.type].label}</span>
        <span class={`badge ${connected ? 'ready' : 'failed'}`}>
          {connected ? 'Connected' : `Disconnected${channel.statusReason ? `: ${channel.statusReason}` : ''}`}
        </span>
      </div>
      <p class="muted">
        Inbound address: <code class="url">{channel.inboundUrl}</code>{' '}
        <CopyButton text={channel.inboundUrl} label="Copy address" />
      </p>
      <p class="muted">
        {channel.callbackUrl ? `Answers go to ${channel.callbackUrl} · ` : ''}
        {channel.lastEventAt ? `last event ${formatDate(channel.lastEventAt)}` : 'no event yet'} · added{' '}
        {formatDate(channel.createdAt)}
      </p>
      {canWrite ? (
        <div class="row wrap">
          <button
            type="button"
            disabled={action.busy}
            onClick={() =>
              void action.run(() => api('POST', `/channels/${channel.id}/reconnect`)).then((ok) => ok && onChanged())
            }
          >
            <ItemLabel text={action.busy ? 'Checking…' : 'Reconnect'} name={channel.name} />
          </button>
          <EditButton name={channel.name} edit={edit} />
          <DeleteItemButton
            name={channel.name}
            path={`/channels/${channel.id}`}
            question={`Delete the channel ${channel.name}? Messages sent to it are no longer answered.`}
            confirmLabel="Delete channel"
            action={action}
            onDeleted={onChanged}
          />
        </div>
      ) : null}
      <ErrorMessage error={action.error} />
    </li>
  );
}

export function ChannelsPage() {
  const bot = chosenBot.value;
  const [secret, setSecret] = useState<{ title: string; secret: string } | null>(null);
  const channels = useLoad(
    () =>
      bot && hasScope('channels:read')
        ? apiPage<ChannelDto>(`/chatbots/${bot.id}/channels?perPage=100`)
        : Promise.resolve({ items: [], total: 0 }),
    [bot?.id],
  );
  if (!hasScope('channels:read')) return <p>Channels need a key with the channels:read scope.</p>;
  if (!bot) return <p>Create a bot first, on the Bots page.</p>;
  return (
    <div class="stack">
      {secret ? <SecretOnce title={secret.title} secret={secret.secret} onDismiss={() => setSecret(null)} /> : null}
      {hasScope('channels:write') ? (
        <NewChannel
          botId={bot.id}
          onCreated={(channel) => {
            if (channel.signingSecret)
              setSecret({ title: `Signing secret of ${channel.name}`, secret: channel.signingSecret });
            void channels.reload();
          }}
        />
      ) : null}
      <section aria-labelledby="channel-list">
        <h2 id="channel-list">Channels of {bot.name}</h2>
        <ListStatus list={channels} empty="No channels yet: the bot answers on the web only." />
        <ul class="list channels">
          {channels.data?.items.map((channel) => (
            <ChannelItem key={channel.id} channel={channel} onChanged={() => void channels.reload()} />
          ))}
        </ul>
      </section>
    </div>
  );
}
