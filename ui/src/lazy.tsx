// Pages other than Traces load on first use (their own chunks), so the Traces page — the one
// opened first and the one with the first-render budget (issue #6) — parses only what it needs.
import type { ComponentType } from "preact";
import { useEffect, useState } from "preact/hooks";

const loaded = new Map<() => Promise<ComponentType<any>>, ComponentType<any>>();

export function Lazy<P extends object>({ load, props }: { load: () => Promise<ComponentType<P>>; props: P }) {
  // The same <Lazy> element may be re-rendered with another page's loader (navigation between
  // lazy pages): what is shown is always the current loader's component.
  const [, setLoaded] = useState(0);
  const [error, setError] = useState<{ load: unknown; error: unknown } | null>(null);
  const C = loaded.get(load) as ComponentType<P> | undefined;
  useEffect(() => {
    if (C) return;
    let live = true;
    load()
      .then((c) => {
        loaded.set(load, c);
        if (live) setLoaded((n) => n + 1);
      })
      .catch((e) => live && setError({ load, error: e }));
    return () => {
      live = false;
    };
  }, [load]);
  if (error && error.load === load) {
    const e = error.error;
    return (
      <p class="error" role="alert">
        Could not load this page ({e instanceof Error ? e.message : String(e)}). Reload to try again.
      </p>
    );
  }
  return C ? <C {...props} /> : <p class="muted">Loading…</p>;
}

// Warm the chunk of a page the user is likely to open next, once the browser is idle.
export function prefetch(load: () => Promise<unknown>): void {
  const run = () => void load().catch(() => undefined);
  if ("requestIdleCallback" in window) (window as Window).requestIdleCallback(run, { timeout: 3000 });
  else setTimeout(run, 1000);
}
