import type { CellValue } from './column-types';
import type { DatasetColumn } from './columns';

export interface Dataset {
  id: number;
  workspace: string;
  name: string;
  columns: DatasetColumn[] | null; // null until the first job has inferred them
  rowCount: number;
  createdAt: number;
  updatedAt: number;
}

export interface DatasetRow {
  row: number;
  values: Record<string, CellValue>;
}
