import { api, describeError } from "../api.js";
import { field, h, notice, replaceChildren } from "../dom.js";
import { closeLive } from "../live.js";
import { navigate, type PageFactory } from "../router.js";
import { signIn } from "../session.js";

/** Only same-origin paths: ?next= must not send anyone elsewhere. */
function safeNext(query: URLSearchParams): string {
  const next = query.get("next") ?? "";
  return next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/signin") ? next : "/problems";
}

/**
 * Development: "sign in as" any name, as a user or an admin (the web server mints the token,
 * only when not in production). Always: paste a token your identity provider issued.
 */
export const signInPage: PageFactory = (_params, query) => {
  const status = h("div", { "aria-live": "polite" });
  const devSlot = h("div");
  const done = (value: string) => {
    if (!signIn(value)) {
      replaceChildren(status, notice("error", "That token is not a valid, unexpired SonoCode token."));
      return;
    }
    closeLive();
    navigate(safeNext(query));
  };

  const pasted = h("textarea", { rows: 3, spellcheck: "false", autocomplete: "off", testid: "signin-token" });
  const pasteForm = h(
    "form",
    { class: "card", onsubmit: (event: Event) => (event.preventDefault(), done(pasted.value)) },
    h("h2", {}, "Sign in with a token"),
    field("Token", pasted, "A JWT from your identity provider; kept in this tab only (sessionStorage). Or open the app at /#token=<token>."),
    h("button", { type: "submit" }, "Use token"),
  );

  api<{ devSignIn: boolean }>("GET", "/api/web/config")
    .then(({ devSignIn }) => {
      if (!devSignIn) return;
      const name = h("input", { type: "text", required: true, autocomplete: "username", pattern: "[A-Za-z0-9_.\\-]{1,64}", value: "dev-user", testid: "signin-name" });
      const admin = h("input", { type: "checkbox", id: "signin-admin", testid: "signin-admin" });
      const form = h(
        "form",
        {
          class: "card",
          onsubmit: (event: Event) => {
            event.preventDefault();
            api<{ token: string }>("POST", "/api/dev/token", { body: { name: name.value, role: admin.checked ? "admin" : "user" } })
              .then(({ token }) => done(token))
              .catch((error: unknown) => replaceChildren(status, notice("error", describeError(error))));
          },
        },
        h("h2", {}, "Sign in as (development)"),
        field("Name", name),
        h("div", { class: "field inline" }, admin, h("label", { for: "signin-admin" }, "Admin")),
        h("button", { type: "submit", testid: "signin-button" }, "Sign in"),
      );
      replaceChildren(devSlot, form);
      name.focus();
    })
    .catch((error: unknown) => replaceChildren(status, notice("error", describeError(error))));

  return { element: h("section", { class: "page narrow" }, h("h1", {}, "Sign in"), status, devSlot, pasteForm) };
};
