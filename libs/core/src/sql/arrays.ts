/**
 * A boolean as an element of a parameter array, to be sent as text[] and cast to boolean[].
 * postgres.js types an array by its first element: one that starts with a boolean goes out
 * as a scalar boolean ("cannot cast type boolean to boolean[]"), and an array it sends as
 * boolean[] has each string element written as false. Text arrays arrive as they are.
 */
export function boolText(value: boolean | null): string | null {
  return value === null ? null : value ? 'true' : 'false';
}
