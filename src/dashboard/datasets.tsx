// The workspace's datasets, and one dataset's columns and rows a page at a time.
import { cell, count, when } from './format';
import { useQuery } from './hooks';
import { Pager, useTrail } from './pager';
import { type Column, DATASET, type DatasetAnswer, DATASETS, type DatasetsAnswer } from './queries';
import { links } from './router';

function rules(column: Column): string {
  return [column.type, column.required && 'required', column.unique && 'unique'].filter(Boolean).join(', ');
}

export function DatasetsPage() {
  const { data, error } = useQuery<DatasetsAnswer>(DATASETS, {});
  return (
    <section class="panel">
      <h1>Datasets</h1>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {data?.datasets.length === 0 && <p class="muted">No datasets yet: the first upload to a name creates it.</p>}
      {data && data.datasets.length > 0 && (
        <ul class="datasets">
          {data.datasets.map((dataset) => (
            <li key={dataset.name}>
              <a href={links.dataset(dataset.name)}>{dataset.name}</a>
              <span>{count(dataset.rowCount)} rows</span>
              <span class="muted">{dataset.columns.map((column) => column.name).join(', ') || 'no columns yet'}</span>
              <span class="muted">updated {when(dataset.updatedAt)}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Rows({ columns, rows }: { columns: Column[]; rows: Array<{ row: number; values: Record<string, unknown> }> }) {
  return (
    <div class="scroll" tabIndex={0} role="region" aria-label="Rows table">
      <table class="cells">
        <thead>
          <tr>
            <th scope="col">#</th>
            {columns.map((column) => (
              <th scope="col" key={column.name}>
                {column.name}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map(({ row, values }) => (
            <tr key={row}>
              <td class="number muted">{row}</td>
              {columns.map((column) => (
                <td key={column.name}>{cell(values[column.name])}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function DatasetPage({ name }: { name: string }) {
  const trail = useTrail();
  const { data, error } = useQuery<DatasetAnswer>(DATASET, { name, after: trail.after });
  const dataset = data?.dataset;
  if (!dataset) return <p class={error || data ? 'error' : 'muted'}>{error ?? (data ? 'No such dataset.' : 'Loading…')}</p>;
  return (
    <article class="panel">
      <p class="crumbs">
        <a href={links.datasets}>Datasets</a>
      </p>
      <h1>{dataset.name}</h1>
      <p>
        <strong>{count(dataset.rowCount)}</strong> rows, updated {when(dataset.updatedAt)}
      </p>
      <ul class="columns" aria-label="Columns">
        {dataset.columns.map((column) => (
          <li key={column.name}>
            <span class="mono">{column.name}</span> <span class="muted">{rules(column)}</span>
          </li>
        ))}
      </ul>
      <Rows columns={dataset.columns} rows={dataset.rows.edges.map((edge) => edge.node)} />
      <Pager trail={trail} endCursor={dataset.rows.pageInfo.endCursor} hasNextPage={dataset.rows.pageInfo.hasNextPage} />
    </article>
  );
}
