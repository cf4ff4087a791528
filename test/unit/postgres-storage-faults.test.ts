import { describe, expect, it } from 'vitest';
import { storageFaultOf } from '../../src/engines/postgres/storage-faults';
import { StorageFault } from '../../src/ports/errors';

// Which PostgreSQL failures are the storage's (StorageFault), and which of those lost the connection:
// a job whose connection was lost is queued again to resume; any other storage fault fails it.

const pgError = (code: string, message = 'from the server') => Object.assign(new Error(message), { code });

describe('storageFaultOf (PostgreSQL)', () => {
  it.each([
    ['57P01', 'terminating connection due to administrator command'],
    ['57P02', 'terminating connection because of crash of another server process'],
    ['57P03', 'the database system is starting up'],
    ['08006', 'connection failure'],
    ['08P01', 'protocol violation'],
    ['ECONNRESET', 'read ECONNRESET'],
    ['ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'],
  ])('%s (%s): a storage fault that lost the connection', (code, message) => {
    const fault = storageFaultOf(pgError(code, message));
    expect(fault).toBeInstanceOf(StorageFault);
    expect(fault).toMatchObject({ code, message, connectionLost: true });
  });

  it('a connection that ended without a server response: 08006, lost', () => {
    expect(storageFaultOf(new Error('Connection terminated unexpectedly'))).toMatchObject({ code: '08006', connectionLost: true });
    expect(storageFaultOf(new Error('Client has encountered a connection error and is not queryable'))).toMatchObject({ code: '08006', connectionLost: true });
  });

  it.each([
    ['53100', 'could not extend file: No space left on device'],
    ['57014', 'canceling statement due to statement timeout'],
    ['58030', 'could not read block'],
    ['XX001', 'invalid page in block'],
  ])('%s (%s): a storage fault on a connection that is still there', (code, message) => {
    expect(storageFaultOf(pgError(code, message))).toMatchObject({ code, connectionLost: false });
  });

  it("leaves a statement's own error as it is", () => {
    const unique = pgError('23505', 'duplicate key value violates unique constraint');
    expect(storageFaultOf(unique)).toBe(unique);
  });
});
