// The signed-in person: a bearer token kept in sessionStorage (this tab only, gone when it closes).
// Claims are decoded for display only; the services verify the signature on every request.
const TOKEN_KEY = "sonocode.token";
const TOKEN_PATTERN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export interface SessionClaims {
  sub: string;
  role: "user" | "admin";
  exp: number;
}

function decodeClaims(token: string): SessionClaims | null {
  try {
    const payload = token.split(".")[1] ?? "";
    const json: unknown = JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/")));
    if (typeof json !== "object" || json === null) return null;
    const { sub, role, exp } = json as Record<string, unknown>;
    if (typeof sub !== "string" || (role !== "user" && role !== "admin") || typeof exp !== "number") return null;
    return { sub, role, exp };
  } catch {
    return null;
  }
}

export function token(): string | null {
  const value = sessionStorage.getItem(TOKEN_KEY);
  if (!value) return null;
  const claims = decodeClaims(value);
  if (!claims || claims.exp * 1000 <= Date.now()) {
    sessionStorage.removeItem(TOKEN_KEY);
    return null;
  }
  return value;
}

export function claims(): SessionClaims | null {
  const value = token();
  return value ? decodeClaims(value) : null;
}

/** Stores a token if it looks like a person's JWT that has not expired; returns whether it did. */
export function signIn(value: string): boolean {
  const trimmed = value.trim();
  const decoded = TOKEN_PATTERN.test(trimmed) ? decodeClaims(trimmed) : null;
  if (!decoded || decoded.exp * 1000 <= Date.now()) return false;
  sessionStorage.setItem(TOKEN_KEY, trimmed);
  return true;
}

export function signOut(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

/**
 * Production hand-off: an identity provider (or the operator) opens the app at
 * /#token=<jwt>. The token is moved to sessionStorage and the fragment removed at once,
 * so it stays out of the history, bookmarks and screenshots. Fragments never reach servers.
 */
export function takeTokenFromFragment(): void {
  const match = /^#token=([^&]+)/.exec(location.hash);
  if (!match?.[1]) return;
  signIn(decodeURIComponent(match[1]));
  history.replaceState(history.state, "", location.pathname + location.search);
}
