import type { Statement } from 'better-sqlite3';
import type { Db } from '../storage/sqlite';
import { type CellValue, rowsTable, storageColumn } from '../datasets/sqlite-dataset-store';

const ROWS_PER_STATEMENT = 100;

/** Inserts validated rows into a dataset's table with multi-row prepared statements. */
export class RowWriter {
  private readonly many: Statement;
  private readonly one: Statement;
  private readonly params: CellValue[];

  constructor(db: Db, datasetId: number, private readonly width: number) {
    const columns = Array.from({ length: width }, (_, i) => storageColumn(i)).join(', ');
    const tuple = `(${Array.from({ length: width }, () => '?').join(', ')})`;
    const insert = (rows: number) => `INSERT INTO ${rowsTable(datasetId)} (${columns}) VALUES ${Array.from({ length: rows }, () => tuple).join(', ')}`;
    this.many = db.prepare(insert(ROWS_PER_STATEMENT));
    this.one = db.prepare(insert(1));
    this.params = new Array(width * ROWS_PER_STATEMENT);
  }

  /** Writes the rows; the caller owns the transaction. */
  write(rows: readonly CellValue[][]): void {
    const { width, params } = this;
    let next = 0;
    for (; next + ROWS_PER_STATEMENT <= rows.length; next += ROWS_PER_STATEMENT) {
      for (let r = 0; r < ROWS_PER_STATEMENT; r++) {
        const row = rows[next + r];
        for (let c = 0; c < width; c++) params[r * width + c] = row[c];
      }
      this.many.run(params);
    }
    for (; next < rows.length; next++) this.one.run(rows[next]);
  }
}
