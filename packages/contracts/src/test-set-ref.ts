import { z } from "zod";

/**
 * A problem's test set is content-addressed: its hash is sha256 over a canonical
 * encoding of the tests (see @sonocode/contracts/test-set-hash), maintained by the
 * store on every write. Jobs carry this reference instead of the tests; evaluators
 * fetch the tests once per hash and cache them on disk.
 */
export const testSetHashSchema = z.string().regex(/^[0-9a-f]{64}$/, "must be a lowercase sha256 hex digest");
export type TestSetHash = z.infer<typeof testSetHashSchema>;

export const testSetRefSchema = z.object({
  hash: testSetHashSchema,
  count: z.number().int().min(0),
});
export type TestSetRef = z.infer<typeof testSetRefSchema>;
