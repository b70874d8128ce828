import DOMPurify from "dompurify";
import { Marked } from "marked";

const marked = new Marked({ gfm: true, breaks: false, async: false });

// Links in statements open in a new tab without handing it this window.
DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A" && node.getAttribute("href")) {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer nofollow");
  }
});

/**
 * A problem statement as sanitised HTML. Authors are admins, but a statement may come from
 * an imported package: DOMPurify keeps formatting and drops scripts, event handlers,
 * javascript: URLs, forms and styles. The page's CSP (script-src 'self') is the second wall.
 */
export function renderMarkdown(source: string): DocumentFragment {
  const html = marked.parse(source) as string;
  return DOMPurify.sanitize(html, {
    USE_PROFILES: { html: true },
    FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select", "iframe"],
    RETURN_DOM_FRAGMENT: true,
  });
}
