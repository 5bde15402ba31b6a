/** The docs' tables and the code must agree (fastify's habit): close codes and error codes. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import * as sb from 'switchboard';

function tableRows(file: string): string[][] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => /^\| *[A-Z0-9_]+ *\|/.test(l) && !l.startsWith('| code'))
    .map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
}

describe('docs', () => {
  it('docs/close-codes.md lists every close code with its name and reconnect policy', () => {
    const rows = tableRows('docs/close-codes.md');
    const documented = new Map(rows.map((r) => [Number(r[0]), r]));
    for (const [code, row] of Object.entries(sb.CLOSE_CODE_TABLE)) {
      const doc = documented.get(Number(code));
      assert.ok(doc, `close code ${code} is missing from docs/close-codes.md`);
      assert.equal(doc[1], row.name, `name of ${code}`);
      assert.equal(doc[4], row.reconnect, `reconnect policy of ${code}`);
    }
    assert.equal(documented.size, Object.keys(sb.CLOSE_CODE_TABLE).length, 'docs list codes the code does not have');
  });

  it('docs/errors.md lists every SB_ERR_* code with its class and close code', () => {
    const rows = tableRows('docs/errors.md');
    const documented = new Map(rows.map((r) => [r[0], r]));
    type ErrorClass = new (...args: never[]) => sb.SwitchboardError;
    const classes = (Object.values(sb) as unknown[]).filter(
      (v): v is ErrorClass => typeof v === 'function' && (v as { prototype: unknown }).prototype instanceof sb.SwitchboardError,
    );
    assert.ok(classes.length >= 15);
    const make = (C: ErrorClass): sb.SwitchboardError =>
      C === (sb.ConfigError as unknown) ? new sb.ConfigError('X', 'm') : C === (sb.HandshakeRejectedError as unknown) ? new sb.HandshakeRejectedError(403, 'm') : new (C as unknown as new (m: string) => sb.SwitchboardError)('m');
    for (const C of classes) {
      const err = make(C);
      const doc = documented.get(err.code);
      assert.ok(doc, `${err.code} (${C.name}) is missing from docs/errors.md`);
      assert.equal(doc[1], C.name);
      assert.equal(doc[4], err.closeCode === undefined ? '' : String(err.closeCode), `close code of ${err.code}`);
    }
    assert.equal(documented.size, classes.length, 'docs list error codes the code does not have');
  });
});
