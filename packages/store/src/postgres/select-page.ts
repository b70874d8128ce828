import type { PaginationQuery } from "@sonocode/contracts";
import type { Page } from "../ports.js";
import type { SqlExecutor } from "./sql-client.js";

/** One page, newest first, with the total matching `where`; LIMIT and OFFSET take the next two placeholders. */
export async function selectPage<R extends object, T>(
  db: SqlExecutor,
  table: "problems" | "submissions",
  where: string,
  params: unknown[],
  query: PaginationQuery,
  map: (row: R) => T,
): Promise<Page<T>> {
  const n = params.length;
  const [items, count] = await Promise.all([
    db.query<R>(`SELECT * FROM ${table} ${where} ORDER BY created_at DESC, id DESC LIMIT $${n + 1} OFFSET $${n + 2}`, [...params, query.limit, (query.page - 1) * query.limit]),
    db.query<{ total: number }>(`SELECT count(*)::int AS total FROM ${table} ${where}`, params),
  ]);
  return { items: items.rows.map(map), total: count.rows[0]?.total ?? 0 };
}

