// The web playground in a real browser (Debian's chromium driven by playwright-core) against
// the real embedded platform: the three API services and the web server in this process, the
// evaluator child with the real bwrap sandbox, the test Redis, PGlite. Screenshots of every
// step go to apps/web/.artifacts/browser/ (git-ignored).
import { after, before, describe, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { signToken } from "@sonocode/auth";
import { uniqueName } from "@sonocode/testkit";
import type { Platform } from "../../platform/src/platform.js";
import { TEST_JWT_SECRET, startTestPlatform } from "../../platform/test/helpers.js";
import { buildZip } from "../../../services/problem-service/test/zip.builder.js";
import { DEFAULT_DIST_DIR, ensureClientBuilt } from "../src/index.js";

const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), "..", ".artifacts", "browser");
const VERDICT_MS = 90_000;

const browserMissing = !existsSync(CHROMIUM);
if (browserMissing && process.env["SONOCODE_REQUIRE_BROWSER"]) throw new Error(`${CHROMIUM} is missing and SONOCODE_REQUIRE_BROWSER is set (bash scripts/setup.sh --test installs it)`);
if (browserMissing) console.log(`[web] skipping the browser test: ${CHROMIUM} not found (bash scripts/setup.sh --test installs Debian's chromium)`);

describe("web playground in a real browser", { skip: browserMissing ? `${CHROMIUM} not found` : false }, () => {
  let platform: Platform;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let web: string;
  const consoleErrors: string[] = [];
  /** The CSP refusing an inline handler: Chrome reports one while DOMPurify parses the hostile statement. */
  const cspBlocked: string[] = [];
  const CSP_BLOCK = /violates the following Content Security Policy directive 'script-src 'self''.*The action has been blocked/;
  let step = 0;
  let runsExist = false;
  /**
   * What the page's socket received as run:result (Socket.IO frames `42["run:result",{...}]`) and
   * the page's GETs of a run, with when Node saw them: the event has no texts, so the page reads
   * the run on it.
   */
  const runTraffic: Array<
    | { kind: "event"; at: number; payload: { _id: string; results: Array<Record<string, unknown>> } }
    | { kind: "get"; at: number; id: string }
    | { kind: "read"; at: number; id: string; status: string }
  > = [];

  const shot = async (name: string) => {
    step += 1;
    await page.screenshot({ path: join(ARTIFACTS, `${String(step).padStart(2, "0")}-${name}.png`), fullPage: true });
  };
  const byTestId = (id: string) => page.getByTestId(id);
  /** The run:result frame (it may be seen a moment after the page showed the run, by a poll). */
  const waitForRunEvent = async () => {
    for (let waited = 0; waited < 10_000; waited += 50) {
      const event = runTraffic.find((t) => t.kind === "event");
      if (event?.kind === "event") return event;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error("no run:result frame reached the page");
  };

  /** Types into CodeMirror as a user pasting would (one input event, no auto-closed brackets). */
  const setCode = async (code: string) => {
    const content = byTestId("editor").locator(".cm-content");
    await content.click();
    await page.keyboard.press("ControlOrMeta+a");
    await page.keyboard.press("Delete");
    await page.keyboard.insertText(code);
    assert.equal((await content.innerText()).trimEnd(), code.trimEnd());
  };

  const signIn = async (name: string, admin: boolean) => {
    await page.goto(`${web}/signin`);
    await byTestId("signin-name").fill(name);
    await byTestId("signin-admin").setChecked(admin);
    await byTestId("signin-button").click();
    await byTestId("signed-in-as").filter({ hasText: name }).waitFor();
  };

  // Page scripts are strings: this file is type-checked for Node, without the DOM library.
  /** Records every text the progress box shows, to prove it moved before the verdict. */
  const recordProgress = () =>
    page.evaluate(`(() => {
      const seen = (window.progressSeen = []);
      const target = document.querySelector("[data-testid=progress]");
      new MutationObserver(() => {
        const text = target.textContent;
        if (seen[seen.length - 1] !== text) seen.push(text);
      }).observe(target, { childList: true, subtree: true, characterData: true });
    })()`);
  const progressSeen = async () => (await page.evaluate("window.progressSeen")) as string[];

  before(async () => {
    await rm(ARTIFACTS, { recursive: true, force: true });
    await mkdir(ARTIFACTS, { recursive: true });
    // The build and the platform start side by side: the server reads dist/ per request.
    [, platform] = await Promise.all([
      ensureClientBuilt(DEFAULT_DIST_DIR),
      startTestPlatform(uniqueName("web"), { seed: true, evaluatorConcurrency: 2, web: { port: 0, distDir: DEFAULT_DIST_DIR, devSignIn: true } }),
    ]);
    web = platform.urls.web!;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
    context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
    // Generous: npm test runs this beside every other suite on two cores.
    context.setDefaultTimeout(60_000);
    page = await context.newPage();
    page.on("websocket", (socket) =>
      socket.on("framereceived", ({ payload }) => {
        if (typeof payload === "string" && payload.startsWith('42["run:result",')) runTraffic.push({ kind: "event", at: Date.now(), payload: (JSON.parse(payload.slice(2)) as [string, never])[1] });
      }),
    );
    page.on("request", (request) => {
      const id = /^\/api\/v1\/runs\/([0-9a-f]{24})$/.exec(new URL(request.url()).pathname)?.[1];
      if (request.method() === "GET" && id) runTraffic.push({ kind: "get", at: Date.now(), id });
    });
    page.on("response", (response) => {
      const id = /^\/api\/v1\/runs\/([0-9a-f]{24})$/.exec(new URL(response.url()).pathname)?.[1];
      if (response.request().method() !== "GET" || !id) return;
      const at = Date.now();
      response.json().then(
        (body: { data?: { status?: string } }) => runTraffic.push({ kind: "read", at, id, status: body.data?.status ?? "?" }),
        () => {},
      );
    });
    page.on("console", (message) => {
      if (message.type() !== "error") return;
      if (CSP_BLOCK.test(message.text())) cspBlocked.push(page.url());
      else consoleErrors.push(`${message.text()} at ${JSON.stringify(message.location())} on ${page.url()}`);
    });
    page.on("pageerror", (error) => consoleErrors.push(`pageerror: ${error.message}`));
  });

  after(async () => {
    await browser?.close();
    await platform?.close();
  });

  test("a user signs in and sees the problem list", async () => {
    await signIn("alice", false);
    await byTestId("problem-list").waitFor();
    assert.ok((await byTestId("problem-row").count()) >= 4, "the four seeded problems");
    await shot("problem-list");
  });

  test("A + B: statement, examples, limits and the Python stub in the editor", async () => {
    await byTestId("problem-row").filter({ hasText: "A + B" }).getByRole("link").click();
    await byTestId("editor").locator(".cm-content").waitFor();
    await byTestId("language-select").selectOption("PYTHON");
    assert.match(await byTestId("statement").innerText(), /two integers/);
    assert.match(await byTestId("editor").innerText(), /def solve/);
    // Highlighted tokens exist only once the Python mode (a chunk of its own) has loaded.
    await byTestId("editor").locator(".cm-line span").first().waitFor();
    assert.match(await byTestId("limits").innerText(), /tests/);
    await shot("problem-page");
  });

  test("a right Python answer shows live progress, then Accepted with time and memory", async () => {
    await setCode("def solve(a: int, b: int) -> int:\n    return a + b\n");
    await recordProgress();
    // Ctrl/Cmd+Enter submits from the editor.
    await byTestId("editor").locator(".cm-content").press("ControlOrMeta+Enter");
    await byTestId("verdict").filter({ hasText: "Accepted" }).waitFor({ timeout: VERDICT_MS });
    const verdict = await byTestId("verdict").innerText();
    assert.match(verdict, /4 \/ 4 passed/);
    assert.match(verdict, /\d+ ms/);
    const seen = await progressSeen();
    assert.equal(seen[0], "Queued…", JSON.stringify(seen));
    assert.match(seen.at(-1) ?? "", /Finished: 4 \/ 4/);
    assert.ok(seen.length >= 2, `progress moved: ${JSON.stringify(seen)}`);
    await shot("python-accepted");
  });

  test("a wrong C++ answer (the unchanged stub) is Wrong Answer with the failing visible test", async () => {
    await byTestId("language-select").selectOption("CPP");
    assert.match(await byTestId("editor").innerText(), /long long solve/);
    await recordProgress();
    await byTestId("submit-button").click();
    await byTestId("verdict").filter({ hasText: "Wrong Answer" }).waitFor({ timeout: VERDICT_MS });
    const failed = await byTestId("failed-test").innerText();
    assert.match(failed, /Failing test #1/);
    assert.match(failed, /1 2/);
    assert.match(failed, /Expected\s+3/);
    assert.match(failed, /Your output\s+0/);
    await shot("cpp-wrong-answer");
  });

  test("Run on custom input shows the output", async (t: TestContext) => {
    const probe = await fetch(`${web}/api/v1/runs`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    runsExist = probe.status !== 404;
    if (!runsExist) {
      // TODO(issue 10): POST /api/v1/runs is being built in submission-service; until it exists the
      // app shows "Run is not available" and this step cannot be asserted.
      t.skip("POST /api/v1/runs answers 404 on this platform (not built yet)");
      return;
    }
    await byTestId("language-select").selectOption("PYTHON");
    await byTestId("custom-input").fill("20 22\n");
    runTraffic.length = 0;
    await byTestId("run-button").click();
    await byTestId("run-result").filter({ hasText: "42" }).waitFor({ timeout: VERDICT_MS });
    await shot("run-custom-input");
    // The output shown came from GET /api/v1/runs/:id: the run:result event has no texts. The page
    // reads the run as soon as the event comes (its poll is every 3 s; 1 s is slack for the browser).
    const event = await waitForRunEvent();
    assert.deepEqual(event.payload.results.map((result) => ["input", "output", "expected"].filter((text) => text in result)), [[]], "no texts in the event");
    const timeline = JSON.stringify(runTraffic.map(({ kind, at, ...rest }) => ({ kind, ms: at - event.at, ...("status" in rest ? { status: rest.status } : {}) })));
    // Unless a poll happened to read the final run before the event came (a few ms of window).
    const polledFirst = runTraffic.some((t) => t.kind === "read" && t.id === event.payload._id && t.status !== "Pending" && t.status !== "Running" && t.at <= event.at);
    if (polledFirst) console.log(`[web] a poll read the final run before its event: ${timeline}`);
    else assert.ok(runTraffic.some((t) => t.kind === "get" && t.id === event.payload._id && t.at >= event.at && t.at - event.at < 1_000), `a GET of the run right after its event: ${timeline}`);
  });

  test("code is kept per problem and language across a reload", async () => {
    await page.reload();
    await byTestId("language-select").selectOption("PYTHON");
    assert.match(await byTestId("editor").innerText(), /return a \+ b/);
    await byTestId("language-select").selectOption("CPP");
    assert.match(await byTestId("editor").innerText(), /long long solve/);
    await byTestId("language-select").selectOption("PYTHON");
  });

  test("my submissions lists both verdicts", async () => {
    await page.getByRole("link", { name: "My submissions" }).click();
    await byTestId("submission-list").waitFor();
    const text = await byTestId("submission-list").innerText();
    assert.match(text, /Accepted/);
    assert.match(text, /Wrong Answer/);
    await shot("my-submissions");
  });

  test("an admin creates a problem with a hidden test, then solves it", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await signIn("root", true);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "New problem" }).click();
    await byTestId("problem-title").fill("Double it");
    // A statement that tries to run script three ways; the sanitiser must defuse all of them.
    await byTestId("problem-description").fill(
      'Read an integer `n` and print **2n**.\n\n<script>window.pwned = true</script><p data-testid="evil" onclick="window.pwned = true">Click me</p> <a href="javascript:window.pwned = true">or me</a>',
    );
    await byTestId("problem-checker").selectOption("tokens");
    await byTestId("test-input").first().fill("2\n");
    await byTestId("test-output").first().fill("4\n");
    await byTestId("add-test").click();
    await byTestId("test-input").nth(1).fill("21\n");
    await byTestId("test-output").nth(1).fill("42\n");
    await byTestId("test-hidden").nth(1).check();
    await byTestId("reference-language").selectOption("PYTHON");
    await byTestId("reference-code").fill("print(int(input()) * 2)\n");
    await shot("admin-new-problem");
    await byTestId("save-problem").click();
    await page.getByRole("heading", { name: /Double it/ }).waitFor();
    await byTestId("evil").click();
    await byTestId("statement").getByText("or me").click();
    assert.equal(await page.evaluate("window.pwned"), undefined, "no script from a statement ran");
    assert.equal(await byTestId("statement").locator("script, [onclick], [href^='javascript']").count(), 0);
    // Only the hostile statement's page made the browser refuse anything.
    assert.ok(cspBlocked.every((url) => url === page.url()), JSON.stringify(cspBlocked));

    await byTestId("language-select").selectOption("PYTHON");
    await setCode("print(int(input()) * 2)\n");
    await byTestId("submit-button").click();
    await byTestId("verdict").filter({ hasText: "Accepted" }).waitFor({ timeout: VERDICT_MS });
    assert.match(await byTestId("verdict").innerText(), /2 \/ 2 passed/);
    await shot("admin-solved");
    if (runsExist) {
      // With a reference solution, a run on custom input shows the expected output beside the program's.
      await byTestId("custom-input").fill("5\n");
      await byTestId("run-button").click();
      await byTestId("run-result").filter({ hasText: "Expected" }).waitFor({ timeout: VERDICT_MS });
      assert.match(await byTestId("run-result").innerText(), /Output\s+10\s+Expected\s+10/);
    }
  });

  test("the admin edits the problem (tests and hidden flags come back) and rejudges it", async (t: TestContext) => {
    await byTestId("edit-problem").click();
    await byTestId("test-row").nth(1).waitFor();
    assert.equal(await byTestId("problem-title").inputValue(), "Double it");
    assert.equal(await byTestId("test-hidden").nth(0).isChecked(), false);
    assert.equal(await byTestId("test-hidden").nth(1).isChecked(), true);
    await byTestId("problem-title").fill("Double it, twice checked");
    await byTestId("save-problem").click();
    await page.getByRole("heading", { name: /Double it, twice checked/ }).waitFor();

    const probe = await fetch(`${web}${new URL(page.url()).pathname.replace("/problems/", "/api/v1/problems/")}/rejudge`, { method: "POST" });
    if (probe.status === 404) {
      t.skip("POST /api/v1/problems/:id/rejudge answers 404 on this platform (not built yet)");
      return;
    }
    page.once("dialog", (dialog) => void dialog.accept());
    await byTestId("rejudge-button").click();
    await page.getByText(/queued for rejudging/).waitFor();
    await shot("admin-rejudged");
  });

  test("the admin imports a Kattis package from the problem list", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Problems" }).click();
    const zip = buildZip([
      { name: "square/problem.yaml", data: "name: Square It\n" },
      { name: "square/problem_statement/problem.en.md", data: "Print the square of `n`.\n" },
      { name: "square/data/sample/1.in", data: "3\n" },
      { name: "square/data/sample/1.ans", data: "9\n" },
      { name: "square/data/secret/2.in", data: "12\n" },
      { name: "square/data/secret/2.ans", data: "144\n" },
    ]);
    await byTestId("import-file").setInputFiles({ name: "square.zip", mimeType: "application/zip", buffer: zip });
    await page.getByRole("button", { name: "Import" }).click();
    await page.getByRole("heading", { name: /Square It/ }).waitFor();
    assert.match(await byTestId("statement").innerText(), /square of n/);
    assert.match(await byTestId("limits").innerText(), /2 tests/);
    await shot("admin-kattis-import");
  });

  test("production hand-off: a token in the URL fragment signs the tab in and leaves the address bar", async () => {
    const tab = await context.newPage();
    const bearer = await signToken({ sub: "from-idp", role: "user" }, TEST_JWT_SECRET);
    await tab.goto(`${web}/problems#token=${bearer}`);
    await tab.getByTestId("signed-in-as").filter({ hasText: "from-idp" }).waitFor();
    assert.equal(new URL(tab.url()).hash, "", "the token is gone from the URL");
    assert.equal(await tab.evaluate("sessionStorage.getItem('sonocode.token')"), bearer);
    await tab.close();
  });

  test("readable on a phone", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = (await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")) as number;
    assert.ok(overflow <= 1, `no horizontal scrolling (${overflow}px)`);
    await shot("phone");
  });

  test("the console had no errors", () => {
    assert.deepEqual(consoleErrors, []);
    assert.ok(cspBlocked.length <= 2, `CSP refusals: ${JSON.stringify(cspBlocked)}`);
  });
});
