// Small pieces shared by pages.
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { prettyJson, valueText } from "./format";

// Drawn, not emoji: machines without an emoji font would show boxes.
function Thumb({ down }: { down?: boolean }) {
  return (
    <svg width="14" height="14" viewBox="0 0 24 24" aria-hidden="true" style={down ? { transform: "rotate(180deg)" } : undefined}>
      <path
        fill="currentColor"
        d="M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6.02-.32a1.5 1.5 0 0 0-.44-1.06L13.2 1 6.6 7.6A2 2 0 0 0 6 9v10a2 2 0 0 0 2 2h9a2 2 0 0 0 1.84-1.22l3-7.05c.1-.23.16-.47.16-.73v-2z"
      />
    </svg>
  );
}

// Column headers of right-aligned number columns (`<th scope="col" class="num">`), in order.
export function NumHeads({ names }: { names: string[] }) {
  return (
    <>
      {names.map((n) => (
        <th scope="col" class="num">
          {n}
        </th>
      ))}
    </>
  );
}

// Booleans as thumbs (the MLflow UI's convention for user feedback), numbers and text as they are.
export function ValueBadge({ value, label }: { value: unknown; label?: string }) {
  if (value === true)
    return (
      <span role="img" class="badge good" title={label ? `${label}: true` : "true"} aria-label={label ? `${label}: thumbs up` : "thumbs up"}>
        <Thumb />
      </span>
    );
  if (value === false)
    return (
      <span role="img" class="badge bad" title={label ? `${label}: false` : "false"} aria-label={label ? `${label}: thumbs down` : "thumbs down"}>
        <Thumb down />
      </span>
    );
  const text = valueText(value);
  return (
    <span class="badge" title={text}>
      {text.length > 40 ? text.slice(0, 39) + "…" : text}
    </span>
  );
}

export function JsonBlock({ value, label, open = true }: { value: unknown; label: string; open?: boolean }) {
  if (value === undefined || value === null || value === "") return null;
  return (
    <details class="json" open={open}>
      <summary>{label}</summary>
      <pre>{prettyJson(value)}</pre>
    </details>
  );
}

export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  const msg = error instanceof Error ? error.message : String(error);
  return (
    <p class="error" role="alert">
      {msg}
    </p>
  );
}

// `heading` replaces the visible title when part of it must keep its case (a span's name);
// `title` stays the section's accessible name.
export function Card({
  title,
  heading,
  children,
  actions,
}: {
  title: string;
  heading?: ComponentChildren;
  children: ComponentChildren;
  actions?: ComponentChildren;
}) {
  return (
    <section class="card" aria-label={title}>
      <div class="card-head">
        <h2>{heading ?? title}</h2>
        {actions}
      </div>
      {children}
    </section>
  );
}

// A button that shows it is working and reports the async action's error next to it.
export function useAsyncAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
      return true;
    } catch (e) {
      setError(e);
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run, setError };
}
