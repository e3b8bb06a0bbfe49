import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderJsonSchemas } from '../../../src/contracts/json-schemas.js';

const dir = new URL('../../../schemas/', import.meta.url);

describe('published JSON Schema files', () => {
  const expected = renderJsonSchemas();

  it('exist for every bus message', () => {
    expect(Object.keys(expected).sort()).toEqual([
      'action-request.schema.json',
      'action-result.consumer.schema.json',
      'action-result.schema.json',
      'advice.schema.json',
      'alert.consumer.schema.json',
      'alert.schema.json',
      'approval-decision.schema.json',
      'approval-request.schema.json',
      'diagnosis-details.schema.json',
      'heartbeat.schema.json',
      'plain-request-answer.schema.json',
      'plain-request.schema.json',
      'plan.schema.json',
    ]);
  });

  it.each(Object.keys(expected))('%s is up to date (if not: run `npm run schemas`)', (file) => {
    let committed: string;
    try {
      committed = readFileSync(new URL(file, dir), 'utf8');
    } catch {
      throw new Error(`schemas/${file} is missing: run \`npm run schemas\``);
    }
    if (committed !== expected[file])
      throw new Error(`schemas/${file} is out of date: run \`npm run schemas\``);
  });

  it('has no stale files', () => {
    const stale = readdirSync(dir).filter((f) => !(f in expected));
    expect(stale, 'delete these, then run `npm run schemas`').toEqual([]);
  });

  it('are draft 2020-12 with $id, title and description', () => {
    for (const text of Object.values(expected)) {
      const schema = JSON.parse(text);
      expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(schema.$id).toMatch(/^urn:ghost:bus:v1:/);
      expect(typeof schema.title).toBe('string');
      expect(schema.description).toMatch(/well-formed Unicode/);
    }
  });
});
