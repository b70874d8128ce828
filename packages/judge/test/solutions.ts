// Reference programs for the language tests and the benchmark: A+B in every
// language, plus per-language programs that must end in WA, CE, RE, TLE and MLE.
import type { Language } from "@sonocode/contracts";

export interface LanguagePrograms {
  ok: string;
  wa: string;
  ce: string;
  re: string;
  tle: string;
  /** Allocates and touches ~400 MiB: MLE under a 256 MiB limit. */
  mle: string;
}

export const PROGRAMS: Record<Language, LanguagePrograms> = {
  CPP: {
    ok: `#include <iostream>\nint main(){long long a,b;std::cin>>a>>b;std::cout<<a+b<<"\\n";}`,
    wa: `#include <iostream>\nint main(){long long a,b;std::cin>>a>>b;std::cout<<a-b<<"\\n";}`,
    ce: `#include <iostream>\nint main(){ this is not c++ }`,
    re: `#include <cstdio>\nint main(){volatile int*p=nullptr;*p=1;return 0;}`,
    tle: `int main(){volatile unsigned long x=0;for(;;)x++;}`,
    mle: `#include <cstdlib>\n#include <cstdio>\nint main(){size_t n=400u<<20;volatile char*p=(volatile char*)malloc(n);for(size_t i=0;i<n;i+=4096)p[i]=1;printf("%d\\n",p[n-4096]);}`,
  },
  C: {
    ok: `#include <stdio.h>\nint main(void){long long a,b;if(scanf("%lld %lld",&a,&b)!=2)return 1;printf("%lld\\n",a+b);return 0;}`,
    wa: `#include <stdio.h>\nint main(void){puts("0");return 0;}`,
    ce: `int main(void){ return undefined_symbol; }`,
    re: `#include <stdlib.h>\nint main(void){abort();}`,
    tle: `int main(void){volatile unsigned long x=0;for(;;)x++;}`,
    mle: `#include <stdlib.h>\n#include <stdio.h>\nint main(void){size_t n=400u<<20;volatile char*p=malloc(n);for(size_t i=0;i<n;i+=4096)p[i]=1;printf("%d\\n",p[n-4096]);return 0;}`,
  },
  JAVA: {
    ok: `import java.util.*;\npublic class Main{public static void main(String[] a){Scanner s=new Scanner(System.in);long x=s.nextLong(),y=s.nextLong();System.out.println(x+y);}}`,
    wa: `public class Main{public static void main(String[] a){System.out.println(42);}}`,
    ce: `public class Main{public static void main(String[] a){int x = "string";}}`,
    re: `public class Main{public static void main(String[] a){throw new RuntimeException("boom");}}`,
    tle: `public class Main{public static void main(String[] a){long x=0;while(true){x++;if(x==-1)break;}System.out.println(x);}}`,
    mle: `public class Main{public static void main(String[] a){java.util.List<byte[]> l=new java.util.ArrayList<>();for(int i=0;i<400;i++){byte[] b=new byte[1<<20];java.util.Arrays.fill(b,(byte)1);l.add(b);}System.out.println(l.size());}}`,
  },
  PYTHON: {
    ok: `a, b = map(int, input().split())\nprint(a + b)`,
    wa: `print(-1)`,
    ce: `def broken(:\n    pass`,
    re: `raise SystemExit(3)`,
    tle: `while True:\n    pass`,
    mle: `x = bytearray(400 << 20)\nprint(len(x))`,
  },
  JAVASCRIPT: {
    ok: `const [a, b] = require("fs").readFileSync(0, "utf8").trim().split(/\\s+/).map(Number);\nconsole.log(a + b);`,
    wa: `console.log("nope");`,
    ce: `const = ;`,
    re: `null.boom();`,
    tle: `for (;;) {}`,
    mle: `const a = []; for (let i = 0; i < 400; i++) { a.push(Buffer.alloc(1 << 20, 1)); } console.log(a.length);`,
  },
  TYPESCRIPT: {
    ok: `const data: string = require("fs").readFileSync(0, "utf8");\nconst [a, b] = data.trim().split(/\\s+/).map(Number);\nconsole.log(a + b);`,
    wa: `console.log(0);`,
    ce: `const x: number = "not a number";\nconsole.log(x);`,
    re: `throw new Error("boom");`,
    tle: `while (true) {}`,
    mle: `const a: Buffer[] = []; for (let i = 0; i < 400; i++) { a.push(Buffer.alloc(1 << 20, 1)); } console.log(a.length);`,
  },
  GO: {
    ok: `package main\nimport "fmt"\nfunc main(){var a,b int64;fmt.Scan(&a,&b);fmt.Println(a+b)}`,
    wa: `package main\nimport "fmt"\nfunc main(){fmt.Println(7)}`,
    ce: `package main\nfunc main(){ x := 1 }`,
    re: `package main\nfunc main(){var m map[string]int; m["a"]=1}`,
    tle: `package main\nfunc main(){x:=0;for{x++}}`,
    mle: `package main\nimport "fmt"\nfunc main(){b:=make([]byte,400<<20);for i:=0;i<len(b);i+=4096{b[i]=1};fmt.Println(len(b))}`,
  },
  RUST: {
    ok: `use std::io::Read;\nfn main(){let mut s=String::new();std::io::stdin().read_to_string(&mut s).unwrap();let v:Vec<i64>=s.split_whitespace().map(|x|x.parse().unwrap()).collect();println!("{}",v[0]+v[1]);}`,
    wa: `fn main(){println!("wrong");}`,
    ce: `fn main(){ let x: i32 = "str"; }`,
    re: `fn main(){ let v: Vec<i32> = Vec::new(); let i = std::env::args().count() + 5; println!("{}", v[i]); }`,
    tle: `fn main(){ let mut x: u64 = 1; loop { x = x.wrapping_add(1); if unsafe { std::ptr::read_volatile(&x) } == 0 { break; } } println!("{}", x); }`,
    mle: `fn main(){ let mut v = vec![0u8; 400 << 20]; for i in (0..v.len()).step_by(4096) { v[i] = 1; } println!("{}", v.len() + v[4096] as usize); }`,
  },
};

export const AB_TESTS = [
  { input: "1 2\n", output: "3\n" },
  { input: "-5 5\n", output: "0\n" },
  { input: "1000000000 1000000000\n", output: "2000000000\n" },
];
