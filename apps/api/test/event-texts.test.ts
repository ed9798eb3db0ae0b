import { eventTexts } from '../src/event-texts';

/** The texts found must be the elements' own source: each parses to the element JSON.parse gave. */
function expectSources(body: string): void {
  const parsed = JSON.parse(body) as { events: unknown[] };
  const texts = eventTexts(body, parsed.events.length);
  expect(texts).toBeDefined();
  expect(texts!.map((t) => JSON.parse(t) as unknown)).toEqual(parsed.events);
  let from = 0;
  for (const text of texts!) {
    const at = body.indexOf(text, from);
    expect(at).toBeGreaterThanOrEqual(from);
    from = at + text.length;
  }
}

const tricky = {
  id: '01J00000000000000000000000',
  type: 'git.commit',
  data: {
    message: 'quote " backslash \\ end \\\\" brackets ]}[{ , : "events":[1]',
    emoji: '😀 é \u2028',
    nested: [[], {}, [{ a: [1, -2.5e3, true, false, null] }], ''],
    '"events"': { events: [] },
  },
  blob_refs: [],
};

test('finds each event of compact, pretty-printed and oddly spaced bodies, strings with escapes and brackets included', () => {
  const events = [tricky, { id: 'x' }, [], 'a string', 12, null, { events: [{ events: [] }] }];
  expectSources(JSON.stringify({ events }));
  expectSources(JSON.stringify({ events }, null, 2));
  expectSources(` \n\t{ "before" : {"events":[9]} , "events" :\r\n [ ${events.map((e) => JSON.stringify(e, null, 1)).join(' ,\n')} ] , "after":[ "]" ] } \n`);
  expectSources(JSON.stringify({ events: [tricky] }).replace('"message"', '"me\\u0073sage"'));
  expectSources('{"events":[1,2.5,-3e-2,true,false,null]}');
  expectSources('{"events":[]}');
});

test('undefined whenever the body may not say what JSON.parse took from it', () => {
  // A repeated key: JSON.parse keeps the last.
  expect(eventTexts('{"events":[{"id":"a"}],"events":[{"id":"b"}]}', 1)).toBeUndefined();
  // A key spelled with an escape may be `events` too.
  expect(eventTexts('{"\\u0065vents":[{"id":"a"}],"events":[{"id":"b"}]}', 1)).toBeUndefined();
  // Not the count the parsed body has, no events, not an object.
  expect(eventTexts('{"events":[1,2]}', 3)).toBeUndefined();
  expect(eventTexts('{"other":[1]}', 1)).toBeUndefined();
  expect(eventTexts('{}', 0)).toBeUndefined();
  expect(eventTexts('[{"events":[1]}]', 1)).toBeUndefined();
  expect(eventTexts('{"events":{"0":1}}', 1)).toBeUndefined();
});
