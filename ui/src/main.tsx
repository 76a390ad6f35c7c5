import { render } from "preact";
import { useState } from "preact/hooks";
import { loadIdentity, saveIdentity, type Identity } from "./api";
import { useRoute } from "./router";
import { TracesPage } from "./pages/Traces";
import { TraceView } from "./pages/TraceView";
import { LabelingPage } from "./pages/Labeling";
import { ReviewApp } from "./pages/Review";
import { DashboardPage } from "./pages/Dashboard";
import { SignIn } from "./pages/SignIn";
import "./style.css";

function App() {
  const route = useRoute();
  const [identity, setIdentity] = useState<Identity | null>(loadIdentity());
  const signOut = () => {
    saveIdentity(null);
    setIdentity(null);
  };
  const signIn = (id: Identity) => {
    saveIdentity(id);
    setIdentity(id);
  };

  let page;
  switch (route.page) {
    case "traces":
      page = route.params[0] ? <TraceView traceId={route.params[0]} identity={identity} /> : <TracesPage route={route} />;
      break;
    case "labeling":
      page = <LabelingPage tab={route.params[0] ?? "sessions"} />;
      break;
    case "review":
      page = identity ? (
        <ReviewApp sessionId={route.params[0] ?? ""} identity={identity} />
      ) : (
        <SignIn onSignIn={signIn} reason="Sign in to review: your name is recorded with every label you submit." />
      );
      break;
    case "dashboard":
      page = <DashboardPage />;
      break;
    default:
      page = <p class="error">No page “{route.page}”.</p>;
  }

  const tab = (name: string, label: string) => (
    <a href={`#/${name}`} class={route.page === name ? "active" : ""} aria-current={route.page === name ? "page" : undefined}>
      {label}
    </a>
  );
  return (
    <>
      <header class="topbar">
        <a class="brand" href="#/traces">
          tracefeed
        </a>
        <nav aria-label="Main">
          {tab("traces", "Traces")}
          {tab("labeling", "Labeling")}
          {tab("review", "Review App")}
          {tab("dashboard", "Dashboard")}
        </nav>
        <div class="who">
          {identity ? (
            <>
              <span>
                Signed in as <strong>{identity.name}</strong>
              </span>
              <button type="button" class="link" onClick={signOut}>
                Sign out
              </button>
            </>
          ) : (
            <a href="#/review">Sign in</a>
          )}
        </div>
      </header>
      <main>{page}</main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
