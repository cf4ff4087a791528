// Hash routing: the server serves only `/`, and the page finds its view in the fragment.
import { useEffect, useState } from 'preact/hooks';

export type Route = { page: 'jobs' } | { page: 'job'; id: string } | { page: 'datasets' } | { page: 'dataset'; name: string };

export const links = {
  jobs: '#/',
  datasets: '#/datasets',
  job: (id: string) => `#/jobs/${encodeURIComponent(id)}`,
  dataset: (name: string) => `#/datasets/${encodeURIComponent(name)}`,
};

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part; // a fragment typed by hand, not one of ours
  }
}

function parse(hash: string): Route {
  const [, section, name] = /^#\/(jobs|datasets)(?:\/(.+))?$/.exec(hash) ?? [];
  if (section === 'jobs' && name) return { page: 'job', id: decode(name) };
  if (section === 'datasets') return name ? { page: 'dataset', name: decode(name) } : { page: 'datasets' };
  return { page: 'jobs' };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(location.hash));
  useEffect(() => {
    const follow = () => setRoute(parse(location.hash));
    addEventListener('hashchange', follow);
    return () => removeEventListener('hashchange', follow);
  }, []);
  return route;
}
