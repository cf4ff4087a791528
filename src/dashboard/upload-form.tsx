// Upload a file: chosen with the file input or dropped on the drop zone, sent as a GraphQL multipart
// request that shows its own byte progress.
import { useRef, useState } from 'preact/hooks';
import { messageOf, upload, type UserError } from './api';
import { bytes } from './format';
import { INGEST, type IngestAnswer, type JobSummary } from './queries';
import { links } from './router';

type Mode = 'APPEND' | 'REPLACE' | 'UPSERT';
type Sent = { loaded: number; total: number };
type Outcome = { errors: string[]; job: JobSummary | null };

function describe(error: UserError): string {
  return `${error.field?.length ? `${error.field.join('.')}: ` : ''}${error.message} (${error.code})`;
}

/** The upload in flight (its bytes sent) and the answer to the last one. */
function useUpload(onCreated: (job: JobSummary) => void) {
  const [sent, setSent] = useState<Sent | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  /** Resolves with whether a job was created. */
  async function send(file: File, input: Record<string, unknown>): Promise<boolean> {
    setOutcome(null);
    setSent({ loaded: 0, total: file.size });
    try {
      const { ingest } = await upload<IngestAnswer>(INGEST, input, file, (loaded, total) => setSent({ loaded, total }));
      setOutcome({ errors: ingest.userErrors.map(describe), job: ingest.job });
      if (ingest.job) onCreated(ingest.job);
      return ingest.job !== null;
    } catch (failure) {
      setOutcome({ errors: [messageOf(failure)], job: null });
      return false;
    } finally {
      setSent(null);
    }
  }
  return { sent, outcome, send };
}

function DropZone({ file, onChoose }: { file: File | null; onChoose: (file: File | null) => void }) {
  const input = useRef<HTMLInputElement>(null);
  const [dragging, setDragging] = useState(false);
  function drop(event: DragEvent) {
    event.preventDefault();
    setDragging(false);
    const files = event.dataTransfer?.files;
    if (!files?.length || !input.current) return;
    input.current.files = files; // the input shows the dropped file, and stays the one source
    onChoose(files[0]);
  }
  return (
    <div class={`dropzone${dragging ? ' dragging' : ''}`} onDragOver={(event) => (event.preventDefault(), setDragging(true))} onDragLeave={() => setDragging(false)} onDrop={drop}>
      <label for="upload-file">File</label>
      <input id="upload-file" ref={input} type="file" accept=".csv,.tsv,.txt,.xlsx" required onChange={(event) => onChoose(event.currentTarget.files?.[0] ?? null)} />
      <p class="muted">{file ? `${file.name}, ${bytes(file.size)}` : 'CSV or XLSX: choose one, or drop it here.'}</p>
    </div>
  );
}

/** The options as typed: numbers and lists stay text until the upload is sent. */
interface OptionFields {
  mode: Mode;
  maxErrors: string;
  skipRows: string;
  nullValues: string;
  dryRun: boolean;
  key: string;
}

const NO_OPTIONS: OptionFields = { mode: 'APPEND', maxErrors: '', skipRows: '', nullValues: '', dryRun: false, key: '' };

/** A comma-separated field's texts, trimmed, blanks left out. */
const listOf = (text: string) => text.split(',').map((item) => item.trim()).filter((item) => item !== '');

/** The ingest input's options from the fields: blank fields are left out (the server's defaults). */
function optionsInput(fields: OptionFields): Record<string, unknown> {
  const nullValues = listOf(fields.nullValues);
  const key = listOf(fields.key);
  return {
    mode: fields.mode,
    ...(fields.maxErrors === '' ? {} : { maxErrors: Number(fields.maxErrors) }),
    ...(fields.skipRows === '' ? {} : { skipRows: Number(fields.skipRows) }),
    ...(nullValues.length === 0 ? {} : { nullValues }),
    ...(fields.dryRun ? { dryRun: true } : {}),
    ...(key.length === 0 ? {} : { key }),
  };
}

function Options({ fields, onChange }: { fields: OptionFields; onChange: (fields: OptionFields) => void }) {
  const set = (field: keyof OptionFields) => (event: { currentTarget: { value: string } }) => onChange({ ...fields, [field]: event.currentTarget.value });
  return (
    <fieldset>
      <legend>Options</legend>
      <label for="upload-mode">Mode</label>
      <select id="upload-mode" value={fields.mode} onChange={set('mode')}>
        <option value="APPEND">APPEND: add the rows</option>
        <option value="REPLACE">REPLACE: replace every row</option>
        <option value="UPSERT">UPSERT: replace rows by key, add the others</option>
      </select>
      <label for="upload-key">Key</label>
      <input id="upload-key" placeholder={fields.mode === 'UPSERT' ? 'required, e.g. id' : "the dataset's, e.g. id"} autocomplete="off" value={fields.key} onInput={set('key')} />
      <label for="upload-max-errors">Max errors</label>
      <input id="upload-max-errors" type="number" min={0} step={1} placeholder="no limit" value={fields.maxErrors} onInput={set('maxErrors')} />
      <label for="upload-skip-rows">Skip rows</label>
      <input id="upload-skip-rows" type="number" min={0} step={1} placeholder="0" value={fields.skipRows} onInput={set('skipRows')} />
      <label for="upload-null-values">Null values</label>
      <input id="upload-null-values" placeholder="e.g. NA, NULL, -" autocomplete="off" value={fields.nullValues} onInput={set('nullValues')} />
      <label class="check">
        <input type="checkbox" checked={fields.dryRun} onChange={(event) => onChange({ ...fields, dryRun: event.currentTarget.checked })} />
        Dry run <span class="muted">(validate and count; nothing is written)</span>
      </label>
    </fieldset>
  );
}

export function UploadForm({ onCreated }: { onCreated: (job: JobSummary) => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [dataset, setDataset] = useState('');
  const [options, setOptions] = useState<OptionFields>(NO_OPTIONS);
  const [round, setRound] = useState(0); // a new drop zone, empty, after each upload
  const { sent, outcome, send } = useUpload(onCreated);

  function choose(chosen: File | null) {
    setFile(chosen);
    if (chosen && !dataset) setDataset(chosen.name.replace(/\.[^.]*$/, '')); // a starting point the user can change
  }
  function submit(event: Event) {
    event.preventDefault();
    if (!file) return;
    void send(file, { dataset: dataset.trim(), ...optionsInput(options) }).then((created) => {
      if (!created) return;
      setFile(null);
      setRound((n) => n + 1);
    });
  }
  return (
    <section class="panel" aria-labelledby="upload-heading">
      <h2 id="upload-heading">Upload</h2>
      <form class="upload" onSubmit={submit}>
        <DropZone key={round} file={file} onChoose={choose} />
        <label for="upload-dataset">Dataset</label>
        <input id="upload-dataset" value={dataset} required autocomplete="off" onInput={(event) => setDataset(event.currentTarget.value)} />
        <Options fields={options} onChange={setOptions} />
        <button type="submit" disabled={sent !== null}>
          Upload
        </button>
        {sent && <Sending sent={sent} />}
        {outcome && <UploadOutcome outcome={outcome} />}
      </form>
    </section>
  );
}

function Sending({ sent }: { sent: Sent }) {
  return (
    <div class="sending">
      <progress aria-label="Upload progress" max={sent.total} value={sent.loaded} />
      <span>
        {bytes(sent.loaded)} of {bytes(sent.total)} sent
      </span>
    </div>
  );
}

function UploadOutcome({ outcome }: { outcome: Outcome }) {
  if (outcome.errors.length > 0) {
    return (
      <ul class="errors" role="alert">
        {outcome.errors.map((error) => (
          <li key={error}>{error}</li>
        ))}
      </ul>
    );
  }
  return outcome.job ? (
    <p class="notice" role="status">
      Job <a href={links.job(outcome.job.id)}>{outcome.job.id}</a> created.
    </p>
  ) : null;
}
