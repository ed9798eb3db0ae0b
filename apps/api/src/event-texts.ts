/*
 * The source text of each event in a request body, so that an accepted event is published as
 * the bytes the client sent instead of being serialized again (JSON.stringify of an event cost
 * more than finding its text). Only for a body JSON.parse already accepted: on valid JSON this
 * walk needs no error handling beyond "not the shape expected", and the parsed body tells how
 * many events to expect. Anything unexpected gives undefined, and the caller serializes.
 */

const TAB = 9;
const LF = 10;
const CR = 13;
const SPACE = 32;
const QUOTE = 34;
const COMMA = 44;
const COLON = 58;
const OPEN_BRACKET = 91;
const BACKSLASH = 92;
const CLOSE_BRACKET = 93;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;

function skipSpace(text: string, i: number): number {
  let c = text.charCodeAt(i);
  while (c === SPACE || c === LF || c === CR || c === TAB) c = text.charCodeAt(++i);
  return i;
}

/** Just past the string whose opening quote is at `i`; -1 if it does not end. */
function skipString(text: string, i: number): number {
  let from = i + 1;
  for (;;) {
    const quote = text.indexOf('"', from);
    if (quote < 0) return -1;
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

/** Just past the JSON value that starts at `i`; -1 if it does not end. */
function skipValue(text: string, i: number): number {
  const first = text.charCodeAt(i);
  if (first === QUOTE) return skipString(text, i);
  if (first === OPEN_BRACE || first === OPEN_BRACKET) {
    let depth = 0;
    for (let j = i; j < text.length; ) {
      const c = text.charCodeAt(j);
      if (c === QUOTE) {
        j = skipString(text, j);
        if (j < 0) return -1;
        continue;
      }
      if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
      else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && --depth === 0) return j + 1;
      j++;
    }
    return -1;
  }
  // A number, true, false or null: up to the next delimiter.
  let j = i;
  for (let c = text.charCodeAt(j); j < text.length; c = text.charCodeAt(++j)) {
    if (c === COMMA || c === CLOSE_BRACE || c === CLOSE_BRACKET || c === SPACE || c === LF || c === CR || c === TAB) break;
  }
  return j > i ? j : -1;
}

/** The elements of the array that starts at `i`, as text, and the index just past it. */
function arrayElements(text: string, i: number): { texts: string[]; end: number } | undefined {
  if (text.charCodeAt(i) !== OPEN_BRACKET) return undefined;
  const texts: string[] = [];
  let at = skipSpace(text, i + 1);
  if (text.charCodeAt(at) === CLOSE_BRACKET) return { texts, end: at + 1 };
  for (;;) {
    const end = skipValue(text, at);
    if (end < 0) return undefined;
    texts.push(text.slice(at, end));
    at = skipSpace(text, end);
    const c = text.charCodeAt(at);
    if (c === CLOSE_BRACKET) return { texts, end: at + 1 };
    if (c !== COMMA) return undefined;
    at = skipSpace(text, at + 1);
  }
}

/**
 * The text of each element of `events` in `body`, a JSON object JSON.parse accepted whose
 * `events` array has `count` elements; undefined unless that is exactly what is found. A key
 * spelled with an escape could be another `events`, and a repeated one leaves JSON.parse keeping
 * the last: in both cases, undefined.
 */
export function eventTexts(body: string, count: number): string[] | undefined {
  let at = skipSpace(body, 0);
  if (body.charCodeAt(at) !== OPEN_BRACE) return undefined;
  at = skipSpace(body, at + 1);
  let found: string[] | undefined;
  while (body.charCodeAt(at) === QUOTE) {
    const keyEnd = skipString(body, at);
    if (keyEnd < 0) return undefined;
    const key = body.slice(at + 1, keyEnd - 1);
    if (key.includes('\\')) return undefined;
    at = skipSpace(body, keyEnd);
    if (body.charCodeAt(at) !== COLON) return undefined;
    at = skipSpace(body, at + 1);
    if (key === 'events') {
      if (found) return undefined;
      const array = arrayElements(body, at);
      if (!array) return undefined;
      found = array.texts;
      at = array.end;
    } else {
      at = skipValue(body, at);
      if (at < 0) return undefined;
    }
    at = skipSpace(body, at);
    if (body.charCodeAt(at) === CLOSE_BRACE) return found?.length === count ? found : undefined;
    if (body.charCodeAt(at) !== COMMA) return undefined;
    at = skipSpace(body, at + 1);
  }
  return undefined;
}
