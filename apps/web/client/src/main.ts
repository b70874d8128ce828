import "./styles.css";
import { h, replaceChildren } from "./dom.js";
import { closeLive } from "./live.js";
import { adminProblemPage } from "./pages/admin-problem.page.js";
import { problemListPage } from "./pages/problem-list.page.js";
import { problemPage } from "./pages/problem.page.js";
import { signInPage } from "./pages/signin.page.js";
import { submissionsPage } from "./pages/submissions.page.js";
import { navigate, route, startRouter } from "./router.js";
import { claims, signOut, takeTokenFromFragment } from "./session.js";

function renderNav(nav: HTMLElement): void {
  const who = claims();
  replaceChildren(
    nav,
    h("a", { href: "/problems" }, "Problems"),
    who ? h("a", { href: "/submissions" }, "My submissions") : null,
    who?.role === "admin" ? h("a", { href: "/admin/problems/new" }, "New problem") : null,
    who
      ? h(
          "span",
          { class: "who" },
          h("span", { testid: "signed-in-as" }, `${who.sub}${who.role === "admin" ? " (admin)" : ""}`),
          h("button", { type: "button", class: "link", onclick: () => (signOut(), closeLive(), navigate("/signin")) }, "Sign out"),
        )
      : h("a", { href: `/signin?next=${encodeURIComponent(location.pathname)}` }, "Sign in"),
  );
}

route("/", problemListPage);
route("/problems", problemListPage);
route("/problems/:id", problemPage);
route("/submissions", submissionsPage);
route("/signin", signInPage);
route("/admin/problems/new", adminProblemPage);
route("/admin/problems/:id/edit", adminProblemPage);

takeTokenFromFragment();
const nav = document.getElementById("nav");
const main = document.getElementById("main");
if (nav && main) startRouter(main, () => renderNav(nav));
