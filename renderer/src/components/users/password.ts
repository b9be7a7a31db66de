/** Passwords made in the browser, for the "generate" option of a password change. */

/** A password as strong as the API's generated ones: 15 random bytes in base64url (20 characters). */
export function generatePassword(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(15));
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}
