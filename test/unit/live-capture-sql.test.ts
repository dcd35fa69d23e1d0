import { describe, expect, it } from 'vitest';
import { CAPTURE_SETTINGS, captureSql, hashFromComment, functionComment, parseMarker, payloadSettings, triggerComment } from '../../core/live/capture-sql';
import { captureNames } from '../../core/live/channel';
import { SOURCE_SETTINGS_SQL } from '../../core/source/source-sql';

const names = captureNames('f', 'T');

describe('capture SQL', () => {
  it('runs the function with the settings the source re-read uses, so key text matches', () => {
    const source = SOURCE_SETTINGS_SQL.split(';').map((s) => s.trim()).filter(Boolean).map((s) => {
      const m = s.match(/^SET LOCAL (\w+) = '?([^']*)'?$/);
      if (!m) throw new Error(`unexpected setting: ${s}`);
      return [m[1]!, m[2]!];
    });
    // The function only prints; xmloption (how text is read) is for the sessions that load values.
    expect({ ...Object.fromEntries(CAPTURE_SETTINGS), xmloption: 'content' }).toEqual(Object.fromEntries(source));
  });

  it('quotes every identifier and the channel, and cannot be ended early by a name', () => {
    const sql = captureSql({ flow: 'f', schema: 'My Schema', table: 'T"x', keyColumns: ['$tablesync$', "it's"] }, captureNames('f', 'T', 'Chan $tablesync$ "q"'));
    const fn = sql.install[0]!;
    expect(fn).toContain(`"My Schema"."Chan $tablesync$ ""q""_n"()`);
    expect(fn).toContain(`pg_notify('Chan $tablesync$ "q"', payload)`);
    expect(fn).toContain(`'it''s', NEW."it's"::text`);
    expect(fn).toMatch(/AS \$tablesync1\$/);
    expect(sql.install[3]).toBe(`CREATE TRIGGER "Chan $tablesync$ ""q""_t" AFTER INSERT OR UPDATE OR DELETE ON "My Schema"."T""x" FOR EACH ROW EXECUTE FUNCTION "My Schema"."Chan $tablesync$ ""q""_n"()`);
  });

  it('changes the definition hash with the key, the ordinal and the channel, and records it in the comment', () => {
    const base = { flow: 'f', schema: 'public', table: 'T', keyColumns: ['id'] };
    const h = captureSql(base, names).hash;
    expect(captureSql({ ...base, ordinalColumn: 'm' }, names).hash).not.toBe(h);
    expect(captureSql({ ...base, keyColumns: ['id', 'b'] }, names).hash).not.toBe(h);
    expect(captureSql(base, captureNames('g', 'T')).hash).not.toBe(h);
    expect(captureSql(base, names).hash).toBe(h);
    expect(captureSql({ ...base, flow: 'other' }, names).hash).not.toBe(h);
    expect(hashFromComment(functionComment(h, { flow: 'f', schema: 'public', table: 'T', channel: 'x' }))).toBe(h);
    expect(hashFromComment('something else')).toBeUndefined();
  });

  it('marks every object with its owner, and reads markers back (also those of earlier versions)', () => {
    const owner = { flow: 'naïve "flow"', schema: 'My Schema', table: "it's", channel: 'c' };
    expect(parseMarker(functionComment('00ff', owner))).toEqual({ kind: 'owned', hash: '00ff', owner });
    expect(parseMarker(triggerComment(owner))).toEqual({ kind: 'owned', owner });
    expect(parseMarker('tablesync live capture [0a1b]: notifies channel my chan')).toEqual({ kind: 'legacy', hash: '0a1b', channel: 'my chan' });
    expect(parseMarker('my audit trigger')).toEqual({ kind: 'none' });
    expect(parseMarker(null)).toEqual({ kind: 'none' });
    expect(parseMarker('tablesync live capture {"flow": 1}')).toEqual({ kind: 'none' });
    const sql = captureSql({ flow: 'f', schema: 'public', table: 'T', keyColumns: ['id'] }, names, [{ schema: 'public', table: 'T_2024' }]);
    expect(sql.install.filter((s) => s.startsWith('COMMENT ON'))).toHaveLength(4);
    expect(sql.install).toContain(`CREATE TRIGGER "${names.truncateTrigger}" AFTER TRUNCATE ON "public"."T_2024" FOR EACH STATEMENT EXECUTE FUNCTION "public"."${names.functionName}"()`);
  });
});

describe('capture function settings by payload column type', () => {
  it('carries only the output settings the key and ordinal types need', () => {
    expect(payloadSettings([['int8', 'b'], ['text', 'b'], ['uuid', 'b']])).toEqual([]);
    expect(payloadSettings([['mpaa_rating', 'e']])).toEqual([]);
    expect(payloadSettings([['int8', 'b'], ['timestamptz', 'b']]).map(([k]) => k).sort()).toEqual(['DateStyle', 'TimeZone']);
    expect(payloadSettings([['interval', 'b']]).map(([k]) => k)).toEqual(['IntervalStyle']);
    expect(payloadSettings([['float8', 'b'], ['bytea', 'b']]).map(([k]) => k).sort()).toEqual(['bytea_output', 'extra_float_digits']);
    // unknown or unlisted types: all of them, as before
    expect(payloadSettings([['int4', 'b'], undefined])).toBe(CAPTURE_SETTINGS);
    expect(payloadSettings([['money', 'b']])).toBe(CAPTURE_SETTINGS);
    expect(payloadSettings([['my_pair', 'c']])).toBe(CAPTURE_SETTINGS);
  });

  it('a key column with a nondeterministic collation is compared by its text in collation "C"; other keys as before', () => {
    const base = { flow: 'f', schema: 'public', table: 'T', keyColumns: ['id', 'k'] };
    const plain = captureSql(base, names);
    expect(captureSql(base, names, [], CAPTURE_SETTINGS, [])).toEqual(plain);
    expect(plain.script).toContain(`ROW(OLD."id", OLD."k") IS DISTINCT FROM ROW(NEW."id", NEW."k")`);
    const ci = captureSql(base, names, [], CAPTURE_SETTINGS, ['k']);
    expect(ci.script).toContain(`ROW(OLD."id", OLD."k" COLLATE "C") IS DISTINCT FROM ROW(NEW."id", NEW."k" COLLATE "C")`);
    expect(ci.hash).not.toBe(plain.hash); // an installed function of before is replaced (ownership checked)
  });

  it('a key column whose equal values may print differently (numeric 1.0 = 1.00) is compared by its text', () => {
    const base = { flow: 'f', schema: 'public', table: 'T', keyColumns: ['id', 'n', 'k'] };
    const plain = captureSql(base, names);
    expect(captureSql(base, names, [], CAPTURE_SETTINGS, [], [])).toEqual(plain);
    const loose = captureSql(base, names, [], CAPTURE_SETTINGS, ['k'], ['n']);
    expect(loose.script).toContain(`ROW(OLD."id", OLD."n"::text, OLD."k" COLLATE "C") IS DISTINCT FROM ROW(NEW."id", NEW."n"::text, NEW."k" COLLATE "C")`);
    expect(loose.hash).not.toBe(captureSql(base, names, [], CAPTURE_SETTINGS, ['k']).hash);
  });
});
