// Asks for an API key when the server wants one; the key is kept for this tab only.
import { useState } from 'preact/hooks';

export function KeyPrompt({ refused, onSave }: { refused: boolean; onSave: (key: string) => void }) {
  const [key, setKey] = useState('');
  function submit(event: Event) {
    event.preventDefault();
    if (key.trim()) onSave(key.trim());
  }
  return (
    <section class="panel narrow" aria-labelledby="key-heading">
      <h1 id="key-heading">Sign in</h1>
      <p>
        This server needs an API key. The first one is in <code>data/default-api-key</code> on the server; the key is kept in this tab until it
        closes.
      </p>
      <form class="key-form" onSubmit={submit}>
        <label for="api-key">API key</label>
        <input id="api-key" type="password" autocomplete="off" spellcheck={false} required value={key} onInput={(event) => setKey(event.currentTarget.value)} />
        <button type="submit">Save</button>
      </form>
      {refused && (
        <p class="error" role="alert">
          The server refused this key: check it and try again.
        </p>
      )}
    </section>
  );
}
