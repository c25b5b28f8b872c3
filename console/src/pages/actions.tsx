import { useState } from 'preact/hooks';
import type { ActionDto } from '../../../shared/schemas/actions.js';
import { apiPage, hasScope } from '../api.js';
import { chosenBot } from '../state.js';
import { DeleteItemButton } from '../components/DeleteItemButton.js';
import { ItemLabel } from '../components/ItemLabel.js';
import { ListStatus } from '../components/ListStatus.js';
import { OkMessage } from '../components/OkMessage.js';
import { ErrorMessage, useAction, useFocusReturn, useLoad } from '../ui.js';
import { ActionEditor } from './action-editor.js';
import { PresetForm } from './action-preset.js';
import { ActionRunner, ActionRuns } from './action-run.js';

function ActionItem({ action, onChanged }: { action: ActionDto; onChanged: () => void }) {
  const [open, setOpen] = useState<'edit' | 'test' | null>(null);
  const [runs, setRuns] = useState(0);
  const remove = useAction();
  const editButton = useFocusReturn(open === 'edit');
  const canRun = hasScope('actions:run');
  const toggle = (panel: 'edit' | 'test') => setOpen(open === panel ? null : panel);
  const named = (text: string) => <ItemLabel text={text} name={action.name} />;
  return (
    <li class="item">
      <div class="row wrap">
        <strong>{action.name}</strong>
        <code class="url">
          {action.request.method} {action.request.url}
        </code>
      </div>
      <p class="muted">
        {action.description} · auth: {action.auth.type}
        {action.requiresConfirmation ? ' · asks to confirm' : ''}
        {action.requiresUser ? ' · identified visitors only' : ''}
      </p>
      <div class="row wrap">
        <button type="button" ref={editButton} aria-expanded={open === 'edit'} onClick={() => toggle('edit')}>
          {named('Edit')}
        </button>
        {canRun ? (
          <button type="button" aria-expanded={open === 'test'} onClick={() => toggle('test')}>
            {named('Test')}
          </button>
        ) : null}
        <DeleteItemButton
          name={action.name}
          path={`/actions/${action.id}`}
          question={`Delete the action ${action.name}? The bot stops offering it at once.`}
          confirmLabel="Delete action"
          action={remove}
          onDeleted={onChanged}
        />
      </div>
      <ErrorMessage error={remove.error} />
      {open === 'edit' ? (
        <ActionEditor
          botId={action.chatbotId}
          action={action}
          onCancel={() => setOpen(null)}
          onSaved={() => {
            setOpen(null);
            onChanged();
          }}
        />
      ) : null}
      {open === 'test' ? (
        <>
          <ActionRunner action={action} onRan={() => setRuns(runs + 1)} />
          <ActionRuns action={action} version={runs} />
        </>
      ) : null}
    </li>
  );
}

export function ActionsPage() {
  const bot = chosenBot.value;
  const [from, setFrom] = useState<'preset' | 'scratch'>('preset');
  const [added, setAdded] = useState<string | null>(null);
  const actions = useLoad(
    () =>
      bot && hasScope('actions:write')
        ? apiPage<ActionDto>(`/chatbots/${bot.id}/actions?perPage=100`)
        : Promise.resolve({ items: [], total: 0 }),
    [bot?.id],
  );
  if (!hasScope('actions:write')) return <p>Actions need a key with the actions:write scope.</p>;
  if (!bot) return <p>Create a bot first, on the Bots page.</p>;
  const saved = (action: ActionDto) => {
    setAdded(`Added the action ${action.name}.`);
    void actions.reload();
  };
  return (
    <div class="stack">
      <p class="muted">
        Actions are HTTP calls {bot.name} may make while answering: the model fills the parameters, the server makes the
        request to a fixed host with credentials it never shows back.
      </p>
      <section class="card" aria-labelledby="new-action">
        <h2 id="new-action">New action</h2>
        <fieldset>
          <legend>Start from</legend>
          <div class="row wrap">
            <label class="check">
              <input type="radio" name="from" checked={from === 'preset'} onChange={() => setFrom('preset')} /> A preset
              (Shopify, Stripe, Calendly)
            </label>
            <label class="check">
              <input type="radio" name="from" checked={from === 'scratch'} onChange={() => setFrom('scratch')} />{' '}
              Scratch
            </label>
          </div>
        </fieldset>
        {from === 'preset' ? (
          <PresetForm botId={bot.id} onSaved={saved} />
        ) : (
          <ActionEditor key={bot.id} botId={bot.id} action={null} onSaved={saved} />
        )}
        <OkMessage message={added} />
      </section>
      <section aria-labelledby="action-list">
        <h2 id="action-list">Actions of {bot.name}</h2>
        <ListStatus list={actions} empty="No actions yet." />
        <ul class="list actions">
          {actions.data?.items.map((action) => (
            <ActionItem key={action.id} action={action} onChanged={() => void actions.reload()} />
          ))}
        </ul>
      </section>
    </div>
  );
}
