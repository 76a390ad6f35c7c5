import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { loadIdentity, onUnauthenticated, saveIdentity, type Identity, type Unauthenticated } from "./api";
import { useRoute } from "./router";
import { TracesPage } from "./pages/Traces";
import { SignIn } from "./pages/SignIn";
import { Lazy, prefetch } from "./lazy";
import "./style.css";

const loadTraceView = () => import("./pages/TraceView").then((m) => m.TraceView);
const loadLabeling = () => import("./pages/Labeling").then((m) => m.LabelingPage);
const loadReview = () => import("./pages/Review").then((m) => m.ReviewApp);
const loadDashboard = () => import("./pages/Dashboard").then((m) => m.DashboardPage);

function App() {
  const route = useRoute();
  const [identity, setIdentity] = useState<Identity | null>(loadIdentity());
  // Set by a 401 from any API call: the page is replaced by the sign-in prompt until a token is
  // given; then the page is mounted afresh (`epoch`) so it reloads with the token.
  const [unauthenticated, setUnauthenticated] = useState<Unauthenticated | null>(null);
  const [epoch, setEpoch] = useState(0);
  useEffect(() => onUnauthenticated(setUnauthenticated), []);
  const signOut = () => {
    saveIdentity(null);
    setIdentity(null);
  };
  const signIn = (id: Identity) => {
    saveIdentity(id);
    setIdentity(id);
    if (unauthenticated) {
      setUnauthenticated(null);
      setEpoch((e) => e + 1);
    }
  };

  let page;
  if (unauthenticated) {
    page = (
      <SignIn
        onSignIn={signIn}
        requireToken
        initialName={identity?.name}
        reason={
          unauthenticated.hadToken
            ? "This server did not accept your token. Sign in again with a valid one."
            : "This server requires an API token. Sign in with your name and the token you were given."
        }
        serverMessage={unauthenticated.message}
      />
    );
  } else switch (route.page) {
    case "traces":
      page = route.params[0] ? (
        <Lazy load={loadTraceView} props={{ traceId: route.params[0], identity }} />
      ) : (
        <TracesPage route={route} />
      );
      break;
    case "labeling":
      page = <Lazy load={loadLabeling} props={{ tab: route.params[0] ?? "sessions", sub: route.params[1], query: route.query }} />;
      break;
    case "review":
      page = identity ? (
        <Lazy load={loadReview} props={{ sessionId: route.params[0] ?? "", identity }} />
      ) : (
        <SignIn onSignIn={signIn} reason="Sign in to review: your name is recorded with every label you submit." />
      );
      break;
    case "dashboard":
      page = <Lazy load={loadDashboard} props={{}} />;
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
      <main key={epoch}>{page}</main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
// The trace view is where a row of the Traces page leads: warm it once the first page is shown.
setTimeout(() => prefetch(loadTraceView), 2000);
