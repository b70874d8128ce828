import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkExact, checkFloat, checkOutput, checkTokens, floatsEqual } from "../src/checkers.js";

describe("exact checker", () => {
  it("ignores CRLF, trailing spaces per line and trailing blank lines", () => {
    assert.ok(checkExact("1 2\n3\n", "1 2  \r\n3\r\n\r\n\n"));
    assert.ok(checkExact("a", "a\n"));
    assert.ok(checkExact("", "\n\n"));
  });
  it("keeps leading spaces, inner spaces, inner blank lines and case significant", () => {
    assert.ok(!checkExact("1 2", " 1 2"));
    assert.ok(!checkExact("1 2", "1  2"));
    assert.ok(!checkExact("a\nb", "a\n\nb"));
    assert.ok(!checkExact("Yes", "yes"));
    assert.ok(!checkExact("1\n2", "1"));
    assert.ok(!checkExact("", "0"));
  });
});

describe("tokens checker", () => {
  it("is whitespace-insensitive", () => {
    assert.ok(checkTokens("1 2 3", "1\n2\t\t3\n"));
    assert.ok(checkTokens("  a  ", "a"));
  });
  it("still compares tokens exactly", () => {
    assert.ok(!checkTokens("1 2 3", "1 2"));
    assert.ok(!checkTokens("1.0", "1"));
    assert.ok(!checkTokens("a b", "b a"));
  });
});

describe("float checker", () => {
  it("accepts absolute or relative error within epsilon", () => {
    assert.ok(checkFloat("0.3333333", "0.33333334", 1e-6));
    assert.ok(checkFloat("1000000000", "1000000001", 1e-6)); // relative
    assert.ok(checkFloat("1e-9", "0", 1e-6)); // absolute
    assert.ok(!checkFloat("1.0", "1.1", 1e-6));
  });
  it("never treats NaN as equal", () => {
    assert.ok(!floatsEqual(NaN, NaN, 1));
    assert.ok(!checkFloat("nan", "nan", 1e-6));
    assert.ok(!checkFloat("1.0", "nan", 1e-6));
  });
  it("compares non-numeric tokens exactly and counts tokens", () => {
    assert.ok(checkFloat("Case #1: 2.50000", "Case #1: 2.5", 1e-6));
    assert.ok(!checkFloat("Case #1: 2.5", "case #1: 2.5", 1e-6));
    assert.ok(!checkFloat("1 2", "1 2 3", 1e-6));
    assert.ok(!checkFloat("1", "0x1", 1e-6));
    assert.ok(!checkFloat("1", "", 1e-6));
  });
  it("handles infinities", () => {
    assert.ok(checkFloat("inf", "Infinity", 1e-6));
    assert.ok(!checkFloat("inf", "-inf", 1e-6));
    assert.ok(!checkFloat("1e308", "inf", 1e-6));
  });
  it("is selected by checkOutput with a default epsilon", () => {
    assert.ok(checkOutput({ type: "float" }, "3.14159265", "3.1415927"));
    assert.ok(!checkOutput({ type: "float", epsilon: 1e-9 }, "3.14159265", "3.1415927"));
    assert.ok(checkOutput({ type: "tokens" }, "1 2", "1\n2"));
    assert.ok(!checkOutput({ type: "exact" }, "1 2", "1\n2"));
  });
});
