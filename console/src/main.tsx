import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { CurrentConsoleSessionDto } from '../../shared/schemas/console-sessions.js';
import { api, ApiError, messageOf, session, signedOutReason } from './api.js';
import { route } from './router.js';
import { bots, botsError, chooseBot, chosenBot, loadBots, signOut } from './state.js';
import { ErrorMessage, Field } from './ui.js';
import { ActionsPage } from './pages/actions.js';
import { AgentLoopsPage } from './pages/agent-loops.js';
import { BotsPage } from './pages/bots.js';
import { ChannelsPage } from './pages/channels.js';
import { ConversationsPage } from './pages/conversations.js';
import { GapsPage } from './pages/gaps.js';
import { KeysPage } from './pages/keys.js';
import { KnowledgePage } from './pages/knowledge.js';
import { LeadsPage } from './pages/leads.js';
import { ModelsPage } from './pages/models.js';
import { OverviewPage } from './pages/overview.js';
import { WebhooksPage } from './pages/webhooks.js';
import { WidgetPage } from './pages/widget.js';
import './styles.css';

const PAGES = [
  { page: 'overview', label: 'Overview', component: OverviewPage },
  { page: 'bots', label: 'Bots', component: BotsPage },
  { page: 'knowledge', label: 'Knowledge', component: KnowledgePage },
  { page: 'widget', label: 'Widget', component: WidgetPage },
  { page: 'conversations', label: 'Conversations', component: ConversationsPage },
  { page: 'gaps', label: 'Gaps', component: GapsPage },
  { page: 'leads', label: 'Leads', component: LeadsPage },
  { page: 'actions', label: 'Actions', component: ActionsPage },
  { page: 'channels', label: 'Channels', component: ChannelsPage },
  { page: 'agent-loops', label: 'Agent loops', component: AgentLoopsPage },
  { page: 'webhooks', label: 'Webhooks', component: WebhooksPage },
  { page: 'models', label: 'Model connections', component: ModelsPage },
  { page: 'keys', label: 'API keys', component: KeysPage },
] as const;

/** The key is sent once and forgotten: the server answers an HttpOnly cookie the page cannot read. */
function SignIn() {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    try {
      session.value = await api<CurrentConsoleSessionDto>('POST', '/console/sessions', { apiKey: key.trim() });
      signedOutReason.value = null;
      setKey('');
    } catch (failure) {
      setError(messageOf(failure));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="sign-in" id="main">
      <h1>Wisp console</h1>
      <form onSubmit={submit} class="card">
        <p>
          Paste an API key to sign in. It is exchanged for a session at once and never kept in this browser. Or open a
          one-time link from <code>npm run org -- console-link ORG_ID</code>.
        </p>
        <Field label="API key">
          {(props) => (
            <input
              {...props}
              type="password"
              autoComplete="off"
              spellcheck={false}
              required
              placeholder="sk_live_…"
              value={key}
              onInput={(e) => setKey(e.currentTarget.value)}
            />
          )}
        </Field>
        <ErrorMessage error={error} />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}

function BotPicker() {
  const list = bots.value;
  if (list.length === 0) return null;
  return (
    <label class="bot-picker">
      <span>Bot</span>
      <select value={chosenBot.value?.id ?? ''} onChange={(e) => chooseBot(e.currentTarget.value)}>
        {list.map((bot) => (
          <option key={bot.id} value={bot.id}>
            {bot.name}
          </option>
        ))}
      </select>
    </label>
  );
}

function Shell() {
  const current = route.value;
  const entry = PAGES.find((p) => p.page === current.page) ?? PAGES[0];
  const heading = useRef<HTMLHeadingElement>(null);
  const [menuOpen, setMenuOpen] = useState(false);
  const [signOutError, setSignOutError] = useState<string | null>(null);
  useEffect(() => {
    void loadBots();
  }, []);
  useEffect(() => {
    // A new page is announced by moving focus to its heading.
    heading.current?.focus();
    setMenuOpen(false);
  }, [current.page]);
  const Page = entry.component;
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), heading.current?.focus())}>
        Skip to content
      </a>
      <header class="top">
        <strong class="brand">Wisp console</strong>
        <button
          type="button"
          class="menu-toggle"
          aria-expanded={menuOpen}
          aria-controls="nav"
          onClick={() => setMenuOpen(!menuOpen)}
        >
          Menu
        </button>
        <BotPicker />
        <button
          type="button"
          onClick={() => {
            signOut()
              .then(() => {
                session.value = null;
              })
              .catch((error: unknown) => setSignOutError(messageOf(error)));
          }}
        >
          Sign out
        </button>
      </header>
      <ErrorMessage error={signOutError} />
      <div class="layout">
        <nav id="nav" aria-label="Console" class={menuOpen ? 'open' : ''}>
          <ul>
            {PAGES.map((p) => (
              <li key={p.page}>
                <a href={`#/${p.page}`} aria-current={p.page === entry.page ? 'page' : undefined}>
                  {p.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main">
          <h1 tabIndex={-1} ref={heading}>
            {entry.label}
          </h1>
          <ErrorMessage error={botsError.value} />
          <Page />
        </main>
      </div>
    </>
  );
}

function App() {
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const link = /^#link=([A-Za-z0-9_-]+)$/.exec(location.hash)?.[1];
    // The link's token leaves the address bar (and history) before anything else happens.
    if (link) history.replaceState(null, '', `${location.pathname}#/overview`);
    const start = link
      ? api<CurrentConsoleSessionDto>('POST', '/console/sessions', { link })
      : api<CurrentConsoleSessionDto>('GET', '/console/sessions/current');
    start
      .then((current) => {
        session.value = current;
      })
      .catch((failure: unknown) => {
        session.value = null;
        if (link || !(failure instanceof ApiError && (failure.status === 401 || failure.status === 400))) {
          setError(messageOf(failure));
        }
      });
  }, []);
  if (session.value === undefined) return <p role="status">Loading…</p>;
  if (session.value === null) {
    return (
      <>
        <ErrorMessage error={error ?? signedOutReason.value} />
        <SignIn />
      </>
    );
  }
  return <Shell />;
}

render(<App />, document.getElementById('app')!);
