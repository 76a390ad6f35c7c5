// Hash routes (#/traces, #/traces/<id>, #/labeling, #/review/<session>, #/dashboard), so the
// server only serves one index.html and every page has a shareable URL.
import { useEffect, useState } from "preact/hooks";

export interface Route {
  page: string;
  params: string[];
  query: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const h = hash.replace(/^#\/?/, "");
  const [path, qs] = h.split("?", 2);
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { page: parts[0] ?? "traces", params: parts.slice(1), query: new URLSearchParams(qs ?? "") };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseHash(location.hash));
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return route;
}

export function navigate(path: string): void {
  location.hash = path.startsWith("#") ? path : `#${path}`;
}
