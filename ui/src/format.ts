// Small display helpers shared by the pages.
import type { Assessment } from "./api";

// Formatters are built once: toLocale*String with options builds an Intl.DateTimeFormat per
// call, which is most of a 50-row table's render time (the Traces page's budget, issue #6).
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
const dateFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });

export function formatTime(rfc3339?: string): string {
  if (!rfc3339) return "";
  const d = new Date(rfc3339);
  if (Number.isNaN(d.getTime())) return rfc3339;
  // Today: just the time; otherwise the date too. 24-hour, seconds shown (traces are dense).
  const now = new Date();
  const sameDay = d.getFullYear() === now.getFullYear() && d.getMonth() === now.getMonth() && d.getDate() === now.getDate();
  const time = timeFormat.format(d);
  return sameDay ? time : `${dateFormat.format(d)} ${time}`;
}

// "1.250s" (proto Duration) → "1.25 s" / "250 ms".
export function formatDuration(d?: string): string {
  if (!d) return "";
  const secs = parseFloat(d);
  if (Number.isNaN(secs)) return d;
  if (secs < 1) return `${Math.round(secs * 1000)} ms`;
  return `${secs.toFixed(secs < 10 ? 2 : 1)} s`;
}

export function durationMs(d?: string): number {
  const secs = parseFloat(d ?? "");
  return Number.isNaN(secs) ? 0 : secs * 1000;
}

export function nanos(v?: string | number): number {
  if (v === undefined) return 0;
  return typeof v === "number" ? v : Number(v);
}

export function assessmentValue(a: Assessment): unknown {
  if (a.feedback) return a.feedback.error ? undefined : a.feedback.value;
  if (a.expectation) {
    if (a.expectation.serialized_value) {
      try {
        return JSON.parse(a.expectation.serialized_value.value);
      } catch {
        return a.expectation.serialized_value.value;
      }
    }
    return a.expectation.value;
  }
  return undefined;
}

export function valueText(v: unknown): string {
  if (v === undefined || v === null) return "";
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}

export function truncate(s: string | undefined, n: number): string {
  if (!s) return "";
  return s.length > n ? s.slice(0, n - 1) + "…" : s;
}

// The latest valid assessment per name: what the traces table shows in its columns.
export function latestByName(assessments: Assessment[] | undefined): Map<string, Assessment> {
  const out = new Map<string, Assessment>();
  for (const a of assessments ?? []) {
    if (a.valid === false) continue;
    const prev = out.get(a.assessment_name);
    if (!prev || (a.last_update_time ?? a.create_time ?? "") >= (prev.last_update_time ?? prev.create_time ?? "")) {
      out.set(a.assessment_name, a);
    }
  }
  return out;
}

export function prettyJson(v: unknown): string {
  if (typeof v === "string") {
    try {
      return JSON.stringify(JSON.parse(v), null, 2);
    } catch {
      return v;
    }
  }
  return JSON.stringify(v, null, 2);
}
