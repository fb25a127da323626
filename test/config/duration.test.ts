import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cronProblems,
  formatDuration,
  InvalidDurationError,
  InvalidSizeError,
  parseDuration,
  parseSize,
} from '../../config';

describe('parseDuration', () => {
  test('units and combinations, in milliseconds', () => {
    const cases: [string, number][] = [
      ['90s', 90_000],
      ['15m', 900_000],
      ['1h', 3_600_000],
      ['7d', 604_800_000],
      ['1h30m', 5_400_000],
      ['2w', 1_209_600_000],
      ['500ms', 500],
      ['1m30s', 90_000],
      ['1.5h', 5_400_000],
      [' 10m ', 600_000],
      ['0s', 0],
    ];
    for (const [input, ms] of cases) assert.equal(parseDuration(input), ms, input);
  });

  test('clear errors naming the input and the accepted forms', () => {
    const bad: [unknown, RegExp][] = [
      ['', /an empty string is not a duration/],
      ['90', /"90" has no unit; write e\.g\. "90s" or "90m"/],
      [
        '1M',
        /"1M" is not a duration \(cannot read "1M"\); units are lowercase; use numbers with units ms, s, m, h, d, w/,
      ],
      ['1 hour', /"1 hour" is not a duration \(cannot read "1 hour"\)/],
      ['1h1h', /gives "h" twice/],
      ['-5m', /cannot read "-5m"/],
      [90, /90 is not a duration; add a unit, e\.g\. "90s"/],
      [null, /null is not a duration/],
    ];
    for (const [input, re] of bad) {
      assert.throws(
        () => parseDuration(input as string),
        (e: unknown) => e instanceof InvalidDurationError && e.input === input && re.test(e.message),
        String(input),
      );
    }
  });

  test('formatDuration is the readable inverse', () => {
    for (const s of ['1h30m', '15m', '7d', '90s'].map(parseDuration)) assert.equal(parseDuration(formatDuration(s)), s);
    assert.equal(formatDuration(5_400_000), '1h30m');
    assert.equal(formatDuration(90_000), '1m30s');
  });
});

describe('parseSize', () => {
  test('bytes, decimal and binary units, any case', () => {
    assert.equal(parseSize(1024), 1024);
    assert.equal(parseSize('2GiB'), 2 * 2 ** 30);
    assert.equal(parseSize('500MB'), 500_000_000);
    assert.equal(parseSize('1.5 KiB'), 1536);
    assert.equal(parseSize('10kb'), 10_000);
    assert.equal(parseSize('42'), 42);
  });

  test('ambiguous or malformed sizes are refused with the fix', () => {
    assert.throws(
      () => parseSize('2G'),
      (e: unknown) => e instanceof InvalidSizeError && /unknown unit "G"; write "2GiB" or "2GB"/.test(e.message),
    );
    assert.throws(() => parseSize('lots'), /"lots" is not a size/);
    assert.throws(() => parseSize(-1), /-1 is not a size/);
    assert.throws(() => parseSize(1.5), /1\.5 is not a size/);
  });
});

describe('cronProblems', () => {
  test('valid 5-field expressions', () => {
    for (const c of [
      '0 * * * *',
      '30 3 * * *',
      '*/15 * * * *',
      '0 4 * * SUN',
      '0 0 1,15 * *',
      '0 9-17 * * MON-FRI',
      '0 0 1 jan *',
      '5-55/10 * * * *',
    ]) {
      assert.deepEqual(cronProblems(c), [], c);
    }
  });

  test('wrong field counts, ranges and tokens are named', () => {
    assert.match(
      cronProblems('0 * * *')[0],
      /"0 \* \* \*" has 4 fields; a cron needs five fields: minute hour day-of-month month day-of-week/,
    );
    assert.match(cronProblems('0 0 * * * *')[0], /has 6 fields/);
    assert.match(cronProblems('60 * * * *')[0], /minute "60" is out of range; use 0-59/);
    assert.match(cronProblems('0 24 * * *')[0], /hour "24" is out of range; use 0-23/);
    assert.match(cronProblems('0 0 0 * *')[0], /day of month "0" is out of range; use 1-31/);
    assert.match(cronProblems('0 0 * 13 *')[0], /month "13" is out of range/);
    assert.match(cronProblems('0 0 * * FUNDAY')[0], /day of week "FUNDAY" is not valid; .*SUN-SAT/);
    assert.match(cronProblems('0 5-1 * * *')[0], /range "5-1" goes backwards/);
    assert.match(cronProblems('*/0 * * * *')[0], /minute "\*\/0" is not valid/);
  });
});
