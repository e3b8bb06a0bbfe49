import { describe, expect, it } from 'vitest';
import { urlPassword } from '../../../src/log/url-credentials.js';

describe('urlPassword', () => {
  it('is the decoded password of a URL that carries one', () => {
    expect(urlPassword('https://proxy:s3cr%40t-value@models.example:8443/v1')).toBe('s3cr@t-value');
  });
  it('is null for a URL without one, or for text that is no URL', () => {
    expect(urlPassword('https://api.anthropic.com')).toBeNull();
    expect(urlPassword('http://user@127.0.0.1:11434')).toBeNull();
    expect(urlPassword('not a url')).toBeNull();
  });
});
