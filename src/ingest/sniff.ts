import type { FileFormat } from '../jobs/model';

const ZIP_SIGNATURE = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

/** The format a file's first bytes show: a zip archive is XLSX, anything else is read as CSV. */
export function sniffFormat(head: Buffer): FileFormat {
  return head.subarray(0, ZIP_SIGNATURE.length).equals(ZIP_SIGNATURE) ? 'XLSX' : 'CSV';
}
