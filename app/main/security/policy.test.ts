import { describe, expect, it } from 'vitest';
import {
  contentSecurityPolicy,
  externalTarget,
  navigationAllowed,
  permissionAllowed,
  withContentSecurityPolicy,
} from './policy.ts';

const ORIGIN = 'http://127.0.0.1:43117';

describe('window security policy', () => {
  it.each([
    [`${ORIGIN}/`, true],
    [`${ORIGIN}/panel/login?code=abc`, true],
    [`${ORIGIN}/users#top`, true],
    ['http://127.0.0.1:43118/', false],
    ['https://127.0.0.1:43117/', false],
    ['http://localhost:43117/', false],
    ['https://example.org/', false],
    ['file:///etc/passwd', false],
    ['data:text/html,<script>alert(1)</script>', false],
    ['javascript:alert(1)', false],
    ['about:blank', false],
  ])('navigation to %s allowed: %s', (url, allowed) => {
    expect(navigationAllowed(url, ORIGIN)).toBe(allowed);
  });

  it.each([
    ['https://www.thunderbird.net/', 'https://www.thunderbird.net/'],
    ['http://example.org', 'http://example.org/'],
    ['mailto:admin@example.org', 'mailto:admin@example.org'],
    [`${ORIGIN}/users`, null],
    ['file:///home/', null],
    ['javascript:alert(1)', null],
    ['https://user:pw@example.org/', null],
    ['smb://nas/share', null],
    ['not a url', null],
  ])('a link to %s leaving the window opens %s outside', (url, target) => {
    expect(externalTarget(url, ORIGIN)).toBe(target);
  });

  it('grants only clipboard writes, and only to the panel', () => {
    expect(permissionAllowed('clipboard-sanitized-write', `${ORIGIN}/users`, ORIGIN)).toBe(true);
    expect(permissionAllowed('clipboard-sanitized-write', 'https://example.org/', ORIGIN)).toBe(false);
    for (const permission of [
      'media',
      'notifications',
      'geolocation',
      'clipboard-read',
      'openExternal',
      'fullscreen',
    ]) {
      expect(permissionAllowed(permission, `${ORIGIN}/`, ORIGIN)).toBe(false);
    }
  });

  it('the CSP allows only the panel itself, and its event stream', () => {
    const policy = contentSecurityPolicy(ORIGIN);
    const directives = new Map(
      policy.split('; ').map((directive) => {
        const [name, ...values] = directive.split(' ');
        return [name, values] as const;
      }),
    );
    expect(directives.get('default-src')).toEqual(["'none'"]);
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('connect-src')).toEqual(["'self'", 'ws://127.0.0.1:43117']);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(policy).not.toMatch(/unsafe-eval/);
    expect(directives.get('script-src')).not.toContain("'unsafe-inline'");
  });

  it("adds the CSP beside the panel host's own, whatever its header's case", () => {
    expect(withContentSecurityPolicy(undefined, 'P')).toEqual({ 'Content-Security-Policy': ['P'] });
    const merged = withContentSecurityPolicy(
      { 'content-security-policy': ["default-src 'self'"], 'Content-Type': ['text/html'] },
      'P',
    );
    expect(merged).toEqual({
      'content-security-policy': ["default-src 'self'", 'P'],
      'Content-Type': ['text/html'],
    });
  });
});
