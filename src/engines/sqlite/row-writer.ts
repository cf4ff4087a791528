import type { Statement } from 'better-sqlite3';
import type { CellValue } from '../../datasets/column-types';
import type { Db } from './database';
import { rowsTable, storageColumn } from './dataset-tables';

const ROWS_PER_STATEMENT = 100;
const MAX_BOUND_PARAMETERS = 32_766; // SQLite's limit on ? in one statement

/** Inserts validated rows into a dataset's table with multi-row prepared statements. */
export class RowWriter {
  private readonly many: Statement;
  private readonly one: Statement;
  private readonly params: CellValue[];
  private readonly rowsPerStatement: number;

  constructor(db: Db, datasetId: number, private readonly width: number) {
    const columns = Array.from({ length: width }, (_, i) => storageColumn(i)).join(', ');
    const tuple = `(${Array.from({ length: width }, () => '?').join(', ')})`;
    const insert = (rows: number) => `INSERT INTO ${rowsTable(datasetId)} (${columns}) VALUES ${Array.from({ length: rows }, () => tuple).join(', ')}`;
    this.rowsPerStatement = Math.max(1, Math.min(ROWS_PER_STATEMENT, Math.floor(MAX_BOUND_PARAMETERS / width)));
    this.many = db.prepare(insert(this.rowsPerStatement));
    this.one = db.prepare(insert(1));
    this.params = new Array(width * this.rowsPerStatement);
  }

  /** Writes the rows; the caller owns the transaction. */
  write(rows: readonly CellValue[][]): void {
    const { width, params, rowsPerStatement } = this;
    let next = 0;
    for (; next + rowsPerStatement <= rows.length; next += rowsPerStatement) {
      for (let r = 0; r < rowsPerStatement; r++) {
        const row = rows[next + r];
        for (let c = 0; c < width; c++) params[r * width + c] = row[c];
      }
      this.many.run(params);
    }
    for (; next < rows.length; next++) this.one.run(rows[next]);
  }
}
