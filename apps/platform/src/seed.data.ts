import type { ProblemInput } from "@sonocode/contracts";

// A small problem set seeded on first start so a newcomer can submit at once.
// Each problem has visible and hidden tests; A+B has stubs for several languages
// (the program run is startSnippet + code + endSnippet); the others take whole programs.

const aPlusBTests = [
  { input: "1 2\n", output: "3\n", hidden: false },
  { input: "-5 5\n", output: "0\n", hidden: false },
  { input: "1000000000 1000000000\n", output: "2000000000\n", hidden: true },
  { input: "-1000000000 -999999999\n", output: "-1999999999\n", hidden: true },
];

export const SEED_PROBLEMS: ProblemInput[] = [
  {
    title: "A + B",
    description: "Read two integers `a` and `b` (|a|, |b| ≤ 10^9) from one line and print `a + b`.",
    difficulty: "easy",
    testCases: aPlusBTests,
    codeStubs: [
      {
        language: "PYTHON",
        startSnippet: "",
        userSnippet: "def solve(a: int, b: int) -> int:\n    pass\n",
        endSnippet: "\nif __name__ == '__main__':\n    a, b = map(int, input().split())\n    print(solve(a, b))\n",
      },
      {
        language: "CPP",
        startSnippet: "#include <bits/stdc++.h>\nusing namespace std;\n",
        userSnippet: "long long solve(long long a, long long b) {\n    return 0;\n}\n",
        endSnippet: "\nint main() {\n    long long a, b;\n    cin >> a >> b;\n    cout << solve(a, b) << endl;\n}\n",
      },
      {
        language: "JAVASCRIPT",
        startSnippet: "",
        userSnippet: "function solve(a, b) {\n  return 0;\n}\n",
        endSnippet:
          "\nconst [a, b] = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/).map(Number);\nconsole.log(String(solve(a, b)));\n",
      },
      {
        language: "JAVA",
        startSnippet: "import java.util.*;\n\npublic class Main {\n",
        userSnippet: "    static long solve(long a, long b) {\n        return 0;\n    }\n",
        endSnippet:
          "\n    public static void main(String[] args) {\n        Scanner in = new Scanner(System.in);\n        long a = in.nextLong(), b = in.nextLong();\n        System.out.println(solve(a, b));\n    }\n}\n",
      },
    ],
    editorial: "Use 64-bit integers: the sum can exceed 2^31 - 1.",
    timeLimitMs: 1000,
    memoryLimitMb: 256,
  },
  {
    title: "Reverse Words",
    description: "Read one line of words separated by single spaces and print the words in reverse order.",
    difficulty: "easy",
    testCases: [
      { input: "hello world\n", output: "world hello\n", hidden: false },
      { input: "a\n", output: "a\n", hidden: false },
      { input: "the quick brown fox\n", output: "fox brown quick the\n", hidden: true },
    ],
    codeStubs: [],
    checker: { type: "tokens" },
  },
  {
    title: "Circle Area",
    description: "Read a radius `r` (0 < r ≤ 10^4) and print the area of the circle. Answers within 1e-6 (absolute or relative) are accepted.",
    difficulty: "medium",
    testCases: [
      { input: "1\n", output: "3.141592653589793\n", hidden: false },
      { input: "2.5\n", output: "19.634954084936208\n", hidden: true },
      { input: "10000\n", output: "314159265.3589793\n", hidden: true },
    ],
    codeStubs: [],
    checker: { type: "float", epsilon: 1e-6 },
  },
  {
    title: "Count Primes",
    description: "Read `n` (1 ≤ n ≤ 10^7) and print how many primes are ≤ n. Mind the time limit.",
    difficulty: "hard",
    testCases: [
      { input: "10\n", output: "4\n", hidden: false },
      { input: "1\n", output: "0\n", hidden: false },
      { input: "10000000\n", output: "664579\n", hidden: true },
    ],
    codeStubs: [],
    timeLimitMs: 2000,
    memoryLimitMb: 256,
    editorial: "A sieve of Eratosthenes over a byte array runs in O(n log log n).",
  },
];
