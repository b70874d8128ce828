// History-API routing: real paths (/problems/<id>) that the web server answers with index.html.
// The URL fragment is kept for the production token hand-off (#token=...), see session.ts.
export interface Page {
  element: HTMLElement;
  /** Unsubscribes live listeners and destroys editors when the page is left. */
  dispose?: () => void;
}

export type PageFactory = (params: Record<string, string>, query: URLSearchParams) => Page;

interface Route {
  pattern: RegExp;
  keys: string[];
  page: PageFactory;
}

const routes: Route[] = [];
let current: Page | null = null;
let outlet: HTMLElement | null = null;
let onNavigate: () => void = () => {};

export function route(path: string, page: PageFactory): void {
  const keys: string[] = [];
  const pattern = new RegExp(`^${path.replace(/:([a-zA-Z]+)/g, (_m, key: string) => (keys.push(key), "([^/]+)"))}/?$`);
  routes.push({ pattern, keys, page });
}

function render(): void {
  if (!outlet) return;
  current?.dispose?.();
  current = null;
  const path = location.pathname;
  for (const { pattern, keys, page } of routes) {
    const match = pattern.exec(path);
    if (!match) continue;
    const params = Object.fromEntries(keys.map((key, i) => [key, decodeURIComponent(match[i + 1] ?? "")]));
    current = page(params, new URLSearchParams(location.search));
    outlet.replaceChildren(current.element);
    onNavigate();
    return;
  }
  navigate("/problems", { replace: true });
}

export function navigate(path: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  render();
  window.scrollTo(0, 0);
}

/** Starts routing into `element`; same-origin links are followed without a page load. */
export function startRouter(element: HTMLElement, afterNavigate: () => void): void {
  outlet = element;
  onNavigate = afterNavigate;
  window.addEventListener("popstate", render);
  document.addEventListener("click", (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const anchor = event.target instanceof Element ? event.target.closest("a") : null;
    if (!anchor || anchor.target || anchor.origin !== location.origin || anchor.hasAttribute("download")) return;
    event.preventDefault();
    navigate(anchor.pathname + anchor.search);
  });
  render();
}
