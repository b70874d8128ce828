// Custom and per-problem checkers on the bwrap engine (needs root, bwrap and the runtime rootfs).
import { createBwrapEngine, DEFAULT_ROOTFS } from "../src/index.js";
import { defineCustomCheckerSuite } from "./custom-checker.suite.js";

const rootfs = process.env.SONOCODE_TEST_ROOTFS || DEFAULT_ROOTFS;

defineCustomCheckerSuite({ engine: "bwrap", makeEngine: () => createBwrapEngine({ rootfs }) });
