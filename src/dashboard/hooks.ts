import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { messageOf, request } from './api';

export interface Query<T> {
  data: T | null;
  error: string | null;
  reload: () => void;
}

/** The answer to `query`, read again when `variables` (compared as JSON) or `version` change, or on `reload()`. */
export function useQuery<T>(query: string, variables: Record<string, unknown>, version: unknown = null): Query<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [round, setRound] = useState(0);
  const key = JSON.stringify(variables);
  useEffect(() => {
    let current = true; // an answer to an older round is dropped
    request<T>(query, JSON.parse(key) as Record<string, unknown>).then(
      (answer) => current && (setData(answer), setError(null)),
      (failure) => current && setError(messageOf(failure)),
    );
    return () => void (current = false);
  }, [query, key, version, round]);
  const reload = useCallback(() => setRound((n) => n + 1), []);
  return { data, error, reload };
}

/** `value`, changing at most once per `ms` (the latest value wins): for reads triggered by live events. */
export function useThrottled<T>(value: T, ms: number): T {
  const [shown, setShown] = useState(value);
  const last = useRef(0);
  useEffect(() => {
    const wait = last.current + ms - Date.now();
    const timer = setTimeout(() => {
      last.current = Date.now();
      setShown(value);
    }, Math.max(0, wait));
    return () => clearTimeout(timer);
  }, [value, ms]);
  return shown;
}
