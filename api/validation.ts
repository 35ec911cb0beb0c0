/** Request parsing with zod: every body and query string is checked before any work is done. */
import type { Context, MiddlewareHandler } from 'hono';
import { type z } from 'zod';
import { problems, type FieldProblem } from './problem.js';
import { NUL_MESSAGE, unstorableTextProblems } from './unstorable-text.js';

export function fieldProblems(error: z.ZodError, where: 'body' | 'query' = 'body'): FieldProblem[] {
  return error.issues.map((issue) => ({ field: issue.path.join('/') || `(${where})`, message: issue.message }));
}

function summarize(errors: FieldProblem[]): string {
  const first = errors[0];
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more problem${errors.length > 2 ? 's' : ''})` : '';
  return first ? `${first.field}: ${first.message}${more}` : 'the request is not valid';
}

export async function parseJsonBody<T extends z.ZodType>(c: Context, schema: T): Promise<z.output<T>> {
  return parseJsonText(c, schema, await c.req.text());
}

function parseJsonText<T extends z.ZodType>(c: Context, schema: T, text: string): z.output<T> {
  const contentType = c.req.header('content-type') ?? '';
  if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(contentType)) throw problems.unsupportedMediaType();
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw problems.malformedJson(`the body could not be parsed as JSON: ${(error as Error).message}`);
  }
  refuseUnstorableText(raw, 'body');
  return parseWith(schema, raw);
}

/** Parses an optional JSON body: an empty body counts as `{}`. */
export async function parseOptionalJsonBody<T extends z.ZodType>(c: Context, schema: T): Promise<z.output<T>> {
  const text = await c.req.text();
  if (text.trim() === '') return parseWith(schema, {});
  return parseJsonText(c, schema, text);
}

export function parseQuery<T extends z.ZodType>(c: Context, schema: T): z.output<T> {
  const raw = c.req.query();
  refuseUnstorableText(raw, 'query');
  return parseWith(schema, raw, 'query');
}

/** Before zod: a NUL (or lone surrogate) anywhere would pass the schema and then fail the database write. */
function refuseUnstorableText(raw: unknown, where: 'body' | 'query'): void {
  const errors = unstorableTextProblems(raw, where);
  if (errors.length > 0) throw problems.validation(summarize(errors), errors);
}

export function parseWith<T extends z.ZodType>(schema: T, raw: unknown, where: 'body' | 'query' = 'body'): z.output<T> {
  const result = schema.safeParse(raw);
  if (!result.success) {
    const errors = fieldProblems(result.error, where);
    throw problems.validation(summarize(errors), errors);
  }
  return result.data;
}

/**
 * Path parameters are decoded by the router, so `%00` would reach the first lookup as U+0000 and
 * fail it (500). Refused here for every route; an undecodable escape stays text and is harmless.
 */
export const refuseNulInPath: MiddlewareHandler = async (c, next) => {
  if (/%00/i.test(new URL(c.req.url).pathname)) throw problems.validation(`(path): ${NUL_MESSAGE}`, [{ field: '(path)', message: NUL_MESSAGE }]);
  await next();
};
