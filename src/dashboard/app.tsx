// The dashboard: asks for a key when the server wants one, then shows the page the fragment names.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, apiKey, messageOf, request, whenUnauthenticated } from './api';
import { DatasetPage, DatasetsPage } from './datasets';
import { JobList } from './job-list';
import { useJobFeed } from './job-feed';
import { JobPage } from './job-page';
import { KeyPrompt } from './key-prompt';
import { disconnect, useConnection } from './live';
import { type JobStatus, PROBE } from './queries';
import { links, type Route, useRoute } from './router';
import { UploadForm } from './upload-form';

type Access = { state: 'checking' } | { state: 'needs-key'; refused: boolean } | { state: 'ready' } | { state: 'unreachable'; message: string };

function Home() {
  const [status, setStatus] = useState<JobStatus | null>(null);
  const feed = useJobFeed(status);
  return (
    <div class="home">
      <h1 class="visually-hidden">Jobs</h1>
      <UploadForm onCreated={feed.add} />
      <JobList feed={feed} status={status} onStatus={setStatus} />
    </div>
  );
}

function View({ route }: { route: Route }) {
  if (route.page === 'job') return <JobPage key={route.id} id={route.id} />;
  if (route.page === 'datasets') return <DatasetsPage />;
  if (route.page === 'dataset') return <DatasetPage key={route.name} name={route.name} />;
  return <Home />;
}

function Connection() {
  const connection = useConnection();
  return (
    <span class={`connection connection-${connection}`} title="Live updates">
      {connection}
    </span>
  );
}

/** The indicator and the key's button only once the API answers. */
function Header({ ready, onForget }: { ready: boolean; onForget: (() => void) | null }) {
  return (
    <header class="top">
      <a class="brand" href={links.jobs}>
        Sluice
      </a>
      <nav aria-label="Main">
        <a href={links.jobs}>Jobs</a>
        <a href={links.datasets}>Datasets</a>
      </nav>
      {ready && <Connection />}
      {ready && onForget && (
        <button type="button" class="secondary" onClick={onForget}>
          Forget key
        </button>
      )}
    </header>
  );
}

/** Whether the API answers, with this tab's key (if any): `needs-key` comes through `whenUnauthenticated`. */
function useAccess() {
  const [access, setAccess] = useState<Access>({ state: 'checking' });
  const check = useCallback(() => {
    request(PROBE).then(
      () => setAccess({ state: 'ready' }),
      (failure) => failure instanceof ApiError && failure.code === 'UNAUTHENTICATED' ? undefined : setAccess({ state: 'unreachable', message: messageOf(failure) }),
    );
  }, []);
  useEffect(() => {
    whenUnauthenticated(() => {
      const refused = apiKey.get() !== null;
      apiKey.clear(); // a refused key is not kept
      disconnect();
      setAccess({ state: 'needs-key', refused });
    });
    check();
  }, [check]);
  const save = (key: string) => {
    apiKey.set(key);
    setAccess({ state: 'checking' });
    check();
  };
  const forget = () => {
    apiKey.clear();
    disconnect();
    setAccess({ state: 'needs-key', refused: false });
  };
  return { access, check, save, forget };
}

export function App() {
  const { access, check, save, forget } = useAccess();
  const route = useRoute();
  const main = useRef<HTMLElement>(null);
  const shown = useRef(route);
  useEffect(() => {
    // After a move to another view, keyboard and screen reader users start at its content.
    if (shown.current !== route) main.current?.focus();
    shown.current = route;
  }, [route]);
  return (
    <>
      <Header ready={access.state === 'ready'} onForget={apiKey.get() === null ? null : forget} />
      <main ref={main} tabIndex={-1}>
        {access.state === 'checking' && <p class="muted">Connecting…</p>}
        {access.state === 'needs-key' && <KeyPrompt refused={access.refused} onSave={save} />}
        {access.state === 'unreachable' && <Unreachable message={access.message} onRetry={check} />}
        {access.state === 'ready' && <View route={route} />}
      </main>
    </>
  );
}

function Unreachable({ message, onRetry }: { message: string; onRetry: () => void }) {
  return (
    <div class="panel narrow" role="alert">
      <p class="error">The server did not answer as expected: {message}</p>
      <button type="button" onClick={onRetry}>
        Try again
      </button>
    </div>
  );
}
