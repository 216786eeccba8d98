/** The value of a nullable GraphQL field that the test expects to be there; fails the test if it is not. */
export function present<T>(value: T | null | undefined, what = 'value'): T {
  if (value === null || value === undefined) throw new Error(`expected a ${what}, got ${value}`)
  return value
}
