// A reviewer identity: a name, and the bearer token when the server has auth tokens configured
// (PRODUCT.md §6). Both stay in this browser only. Shown by the Review App, and by the app for
// any page when an API call answered 401 (`requireToken`, with the server's reason).
import { useState } from "preact/hooks";
import type { Identity } from "../api";

export function SignIn({
  onSignIn,
  reason,
  requireToken = false,
  initialName = "",
  serverMessage,
}: {
  onSignIn: (id: Identity) => void;
  reason: string;
  requireToken?: boolean;
  initialName?: string;
  serverMessage?: string;
}) {
  const [name, setName] = useState(initialName);
  const [token, setToken] = useState("");
  const [error, setError] = useState("");
  const submit = (e: Event) => {
    e.preventDefault();
    const n = name.trim();
    if (!n) return setError("Name: required");
    if (!/^[A-Za-z0-9_.@-]{1,64}$/.test(n)) return setError("Name: letters, digits, _ . @ - only (at most 64)");
    if (requireToken && !token.trim()) return setError("Token: required by this server");
    onSignIn({ name: n, token: token.trim() || undefined });
  };
  return (
    <div class="page narrow">
      <h1>Sign in</h1>
      {requireToken ? (
        <div class="notice-box" role="alert" data-signin="unauthenticated">
          <strong>{reason}</strong>
          {serverMessage && <p class="small muted">Server: {serverMessage}</p>}
        </div>
      ) : (
        <p class="muted">{reason}</p>
      )}
      <form class="stack" onSubmit={submit} aria-label="Sign in">
        <label>
          Your name
          <input aria-label="Your name" autoFocus={!initialName} value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} autocomplete="username" />
        </label>
        <label>
          {requireToken ? (
            "Token"
          ) : (
            <>
              Token <span class="muted small">(only if this server requires one)</span>
            </>
          )}
          <input
            aria-label="Token"
            type="password"
            autoFocus={!!initialName}
            aria-required={requireToken ? "true" : undefined}
            value={token}
            onInput={(e) => setToken((e.target as HTMLInputElement).value)}
            autocomplete="current-password"
          />
        </label>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary">
          Sign in
        </button>
      </form>
    </div>
  );
}
