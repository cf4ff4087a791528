/** The types a column may have. */
export const COLUMN_TYPES = ['STRING', 'INTEGER', 'DECIMAL', 'BOOLEAN', 'DATE', 'DATETIME', 'EMAIL'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

/** A value as a dataset stores it, after conversion to its column's type. */
export type CellValue = string | number | boolean | null;
