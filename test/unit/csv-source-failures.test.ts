import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { openSource } from '../../src/ingest/open-source';
import { tempDir } from '../helpers/files';

const { maxColumns, zipLimits, issueLimits } = loadConfig({});
const LIMITS = { maxRecordBytes: 64 * 1024, maxColumns, zip: zipLimits, issues: issueLimits };

describe('a CSV source that fails while its reader is busy', () => {
  it('fails with RECORD_TOO_LARGE when the over-long record is parsed while a burst is being handled', async () => {
    // The parser runs ahead of its consumer (the file is piped into it), so it meets the unclosed
    // quote while the consumer is still busy with an earlier burst: no one is waiting on it then.
    const path = join(await tempDir(), 'unclosed.csv');
    const rows = Array.from({ length: 20_000 }, (_, i) => `${i},name ${i}`).join('\n');
    await writeFile(path, `id,name\n${rows}\n1,"never closed ${'x'.repeat(256 * 1024)}\n`);
    const source = await openSource({ path, format: 'CSV', csv: { delimiter: null, quote: '"', header: true, encoding: 'utf-8' }, sheet: null, limits: LIMITS, skipRows: 0 });

    const consume = async () => {
      for await (const burst of source.items()) {
        expect(burst.items.length).toBeGreaterThan(0);
        await sleep(20);
      }
    };
    await expect(consume()).rejects.toMatchObject({ code: 'RECORD_TOO_LARGE' });
  });
});
