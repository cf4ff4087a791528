import { COLUMN_TYPES } from '../datasets/column-types';
import { keyNames } from '../datasets/key';
import { type ColumnSpec, specsOf } from '../datasets/columns';
import type { Dataset as DatasetRecord, DatasetRow as DatasetRowRecord } from '../datasets/model';
import { builder } from './builder';
import { connection, connectionType, decodeCursor, encodeCursor, pageSize } from './pagination';

export const ColumnType = builder.enumType('ColumnType', { values: COLUMN_TYPES });

const Column = builder.objectRef<ColumnSpec>('Column').implement({
  description: 'A column of a dataset, with the rules it was declared with: jobs sent without columns are checked against them',
  fields: (t) => ({
    name: t.exposeString('name'),
    type: t.field({ type: ColumnType, resolve: (c) => c.type }),
    required: t.exposeBoolean('required'),
    unique: t.exposeBoolean('unique'),
    pattern: t.exposeString('pattern', { nullable: true }),
    min: t.exposeFloat('min', { nullable: true }),
    max: t.exposeFloat('max', { nullable: true }),
    values: t.exposeStringList('values', { nullable: true }),
    aliases: t.exposeStringList('aliases', { nullable: true, description: 'Other header names that mean this column' }),
    format: t.exposeString('format', { nullable: true, description: "DATE/DATETIME: the layout of the file's text" }),
  }),
});

const DatasetRow = builder.objectRef<DatasetRowRecord>('DatasetRow').implement({
  fields: (t) => ({
    row: t.exposeInt('row', { description: "The row's number in the dataset: stable, increasing in the order rows were written" }),
    values: t.field({ type: 'JSON', description: 'Column name -> value', resolve: (r) => r.values }),
  }),
});

const DatasetRowConnection = connectionType('DatasetRow', DatasetRow);

export const Dataset = builder.objectRef<DatasetRecord>('Dataset').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    columns: t.field({ type: [Column], description: 'Empty until the first job has inferred them', resolve: (d) => specsOf(d.columns ?? []) }),
    key: t.stringList({ description: 'The columns whose values together identify a row (UPSERT finds rows by them); empty: the dataset has no key', resolve: (d) => keyNames(d.columns ?? []) }),
    rowCount: t.exposeInt('rowCount', { description: 'Rows visible: only those of COMPLETED jobs' }),
    rows: t.field({
      type: DatasetRowConnection,
      args: { first: t.arg.int(), after: t.arg.string() },
      resolve: async (dataset, args, context, info) => {
        const { services } = context;
        const size = pageSize(args.first, context, info);
        const after = decodeCursor('row', args.after);
        const items = await services.datasets.rows(dataset, after ?? 0, size + 1);
        return connection(items, size, after, (row) => encodeCursor('row', row.row), () => dataset.rowCount);
      },
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (d) => d.createdAt }),
    updatedAt: t.field({ type: 'DateTime', resolve: (d) => d.updatedAt }),
  }),
});

builder.queryFields((t) => ({
  dataset: t.field({
    type: Dataset,
    nullable: true,
    args: { name: t.arg.string({ required: true }) },
    resolve: (_root, { name }, { workspace, services }) => services.datasets.get(workspace, name),
  }),
  datasets: t.field({
    type: [Dataset],
    resolve: (_root, _args, { workspace, services }) => services.datasets.list(workspace),
  }),
}));
