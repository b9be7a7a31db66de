import { describe, expect, it } from 'vitest';
import { planFolder, planFolders, targetPath, type SourceFolder } from './folders.ts';

function folder(path: string, extra: Partial<SourceFolder> = {}): SourceFolder {
  return { path, delimiter: '/', flags: new Set(), ...extra };
}

describe('folder plan of an IMAP import', () => {
  it("maps Gmail's folders by name when the server lists no special-use", () => {
    expect(planFolder(folder('[Gmail]/Sent Mail'))).toMatchObject({ action: 'import', target: 'Sent' });
    expect(planFolder(folder('[Google Mail]/Bin'))).toMatchObject({ action: 'import', target: 'Trash' });
    expect(planFolder(folder('[Gmail]/Spam'))).toMatchObject({ action: 'import', target: 'Junk' });
    expect(planFolder(folder('[Gmail]/All Mail'))).toMatchObject({ action: 'skip' });
    expect(planFolder(folder('[Gmail]/All Mail'), { includeAllMail: true })).toMatchObject({
      action: 'import',
      target: '[Gmail]/All Mail',
    });
    expect(planFolder(folder('[Gmail]/Starred'))).toMatchObject({ action: 'skip' });
    expect(planFolder(folder('[Gmail]', { flags: new Set(['\\Noselect']) }))).toMatchObject({
      action: 'skip',
      quiet: true,
    });
  });

  it('follows special-use, keeps the hierarchy and translates the delimiter', () => {
    expect(planFolder(folder('Gesendete Objekte', { specialUse: '\\Sent' }))).toMatchObject({
      target: 'Sent',
      specialUse: '\\Sent',
    });
    expect(planFolder(folder('inbox'))).toMatchObject({ target: 'INBOX' });
    expect(targetPath('Clients.Acme.2026', '.')).toBe('Clients/Acme/2026');
    expect(targetPath('Notes a/b.Old', '.')).toBe('Notes a_b/Old');
    expect(targetPath('Élan', null)).toBe('Élan');
  });

  it('narrows to the folders asked for and names those the source lacks', () => {
    const listed = [folder('INBOX'), folder('Work'), folder('[Gmail]/All Mail')];
    expect(planFolders(listed, { only: ['Work', '[Gmail]/All Mail'] }).map((plan) => plan.action)).toEqual([
      'import',
      'import',
    ]);
    expect(() => planFolders(listed, { only: ['Nope'] })).toThrow('no such folder at the source: Nope');
  });
});
