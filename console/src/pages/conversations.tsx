import { useState } from 'preact/hooks';
import type { MessageDto } from '../../../shared/schemas/chat.js';
import type { ConversationSummary } from '../../../shared/schemas/conversations.js';
import { api, apiPage, hasScope, query } from '../api.js';
import { href, navigate, route } from '../router.js';
import { botName } from '../state.js';
import { DataTable } from '../components/DataTable.js';
import { ListStatus } from '../components/ListStatus.js';
import { ConfirmButton, ErrorMessage, formatDate, Loading, Pager, pretty, useAction, useLoad } from '../ui.js';
import { filterParams, Filters, NO_FILTERS, type ListFilters } from './filters.js';

const PER_PAGE = 20;

function who(conversation: ConversationSummary): string {
  return (
    conversation.user?.name ??
    conversation.user?.email ??
    conversation.visitorId ??
    conversation.sessionId ??
    'Anonymous'
  );
}

function ConversationList() {
  const [filters, setFilters] = useState<ListFilters>(NO_FILTERS);
  const [page, setPage] = useState(1);
  const list = useLoad(
    () => apiPage<ConversationSummary>(`/conversations${query({ ...filterParams(filters), page, perPage: PER_PAGE })}`),
    [JSON.stringify(filters), page],
  );
  return (
    <>
      <Filters
        value={filters}
        searchLabel="Search last message, name or email"
        onChange={(next) => {
          setFilters(next);
          setPage(1);
        }}
      />
      <ListStatus list={list} empty="No conversations match." />
      <DataTable
        label="Conversations"
        caption="Conversations, newest first"
        columns={['Visitor', 'Bot', 'Last message', 'Messages', 'When']}
      >
        {list.data?.items.map((c) => (
          <tr key={c.id}>
            <td>
              <a href={href('conversations', c.id)}>{who(c)}</a>
            </td>
            <td>{botName(c.chatbotId)}</td>
            <td>{c.lastMessage?.preview ?? '—'}</td>
            <td>{c.messageCount}</td>
            <td>{formatDate(c.lastMessage?.at ?? c.updatedAt)}</td>
          </tr>
        ))}
      </DataTable>
      <Pager page={page} perPage={PER_PAGE} total={list.data?.total ?? 0} onPage={setPage} />
    </>
  );
}

function Message({ message }: { message: MessageDto }) {
  return (
    <li class={`message ${message.role}`}>
      <div class="meta muted">
        {message.role === 'user' ? 'Visitor' : 'Bot'} · {formatDate(message.createdAt)}
        {message.confidence !== null ? ` · confidence ${message.confidence.toFixed(2)}` : ''}
        {message.status !== 'complete' ? ` · ${message.status}` : ''}
        {message.feedback ? ` · feedback: ${message.feedback === 'up' ? 'helpful' : 'not helpful'}` : ''}
      </div>
      <p class="content">{message.content}</p>
      {message.toolCalls?.length ? (
        <details class="tool-calls">
          <summary>
            {message.toolCalls.length} action {message.toolCalls.length === 1 ? 'call' : 'calls'}
          </summary>
          <ol>
            {message.toolCalls.map((call, index) => (
              <li key={index}>
                <strong>{call.name}</strong> · {call.status}
                {call.error ? <span class="error"> · {call.error}</span> : null}
                <pre>{pretty({ arguments: call.arguments, result: call.result })}</pre>
              </li>
            ))}
          </ol>
        </details>
      ) : null}
      {message.sources.length > 0 ? (
        <details>
          <summary>{message.sources.length} citations</summary>
          <ol>
            {message.sources.map((source) => (
              <li key={source.sourceId + source.excerpt}>
                {source.url ? (
                  <a href={source.url} target="_blank" rel="noreferrer noopener">
                    {source.title}
                  </a>
                ) : (
                  <strong>{source.title}</strong>
                )}{' '}
                <span class="score">score {source.score.toFixed(3)}</span>
                <p class="muted">{source.excerpt}</p>
              </li>
            ))}
          </ol>
        </details>
      ) : null}
    </li>
  );
}

function Transcript({ id }: { id: string }) {
  const conversation = useLoad(
    () => api<ConversationSummary & { messages: MessageDto[] }>('GET', `/conversations/${id}`),
    [id],
  );
  const action = useAction();
  const data = conversation.data;
  return (
    <>
      <p>
        <a href={href('conversations')}>Back to all conversations</a>
      </p>
      <Loading when={conversation.loading && !data} />
      <ErrorMessage error={conversation.error ?? action.error} />
      {data ? (
        <section aria-label="Transcript">
          <p>
            {who(data)} with {botName(data.chatbotId)} · {data.channel} · started {formatDate(data.createdAt)}
            {data.leadId ? (
              <>
                {' '}
                · <a href={href('leads')}>has a lead</a>
              </>
            ) : null}
          </p>
          <ol class="transcript">
            {data.messages.map((message) => (
              <Message key={message.id} message={message} />
            ))}
          </ol>
          {hasScope('conversations:write') ? (
            <ConfirmButton
              label="Delete conversation"
              question="Delete this conversation and its messages? This cannot be undone."
              confirmLabel="Delete"
              onConfirm={() =>
                action.run(() => api('DELETE', `/conversations/${id}`)).then((ok) => ok && navigate('conversations'))
              }
            />
          ) : null}
        </section>
      ) : null}
    </>
  );
}

export function ConversationsPage() {
  const id = route.value.id;
  return id ? <Transcript id={id} /> : <ConversationList />;
}
