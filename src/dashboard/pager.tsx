// Paging through a connection with its cursors: the API pages forward only, so the way back is the
// trail of cursors that led here.
import { useState } from 'preact/hooks';

export interface Trail {
  after: string | null;
  page: number;
  next: (cursor: string) => void;
  previous: () => void;
}

export function useTrail(): Trail {
  const [trail, setTrail] = useState<Array<string | null>>([null]);
  return {
    after: trail[trail.length - 1],
    page: trail.length,
    next: (cursor) => setTrail((cursors) => [...cursors, cursor]),
    previous: () => setTrail((cursors) => (cursors.length > 1 ? cursors.slice(0, -1) : cursors)),
  };
}

export function Pager({ trail, endCursor, hasNextPage }: { trail: Trail; endCursor: string | null; hasNextPage: boolean }) {
  if (trail.page === 1 && !hasNextPage) return null;
  return (
    <div class="pager">
      <button type="button" class="secondary" disabled={trail.page === 1} onClick={trail.previous}>
        Previous page
      </button>
      <span>Page {trail.page}</span>
      <button type="button" class="secondary" disabled={!hasNextPage || !endCursor} onClick={() => endCursor && trail.next(endCursor)}>
        Next page
      </button>
    </div>
  );
}
