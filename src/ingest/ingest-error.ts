/** A failure that ends the job with a code a caller can act on. */
export class IngestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The job's failure when a thread of it ran out of its heap (the XLSX reader keeps every distinct text of a workbook's shared strings, say); null for any other error. */
export function outOfMemory(error: unknown): IngestError | null {
  if ((error as { code?: unknown } | null)?.code !== 'ERR_WORKER_OUT_OF_MEMORY') return null;
  return new IngestError('OUT_OF_MEMORY', 'reading the file needed more memory than a job may use; the dataset is unchanged');
}
