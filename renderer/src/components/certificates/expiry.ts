/** Days left until a certificate expires, and the colour that says how urgent that is. */
export function daysLeft(notAfter: string, now = Date.now()): number {
  return Math.floor((new Date(notAfter).getTime() - now) / 86_400_000);
}

export function expiryColor(days: number): string {
  if (days < 0) return 'red';
  if (days < 14) return 'red';
  if (days < 30) return 'orange';
  return 'teal';
}

export function daysLeftText(days: number): string {
  if (days < 0) return `expired ${-days} day${days === -1 ? '' : 's'} ago`;
  if (days === 0) return 'expires today';
  return `${days} day${days === 1 ? '' : 's'}`;
}

/** A host name or IP address a certificate can name (checked again by the server). */
export function nameError(name: string): string | null {
  const text = name.trim();
  if (text === '') return 'empty name';
  if (/^[\d.]+$/.test(text)) {
    const parts = text.split('.');
    return parts.length === 4 && parts.every((part) => /^\d{1,3}$/.test(part) && Number(part) <= 255)
      ? null
      : `${text} is not a valid IPv4 address`;
  }
  if (text.includes(':')) return /^[0-9a-fA-F:.]+$/.test(text) ? null : `${text} is not a valid IPv6 address`;
  const label = /^(\*|[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)$/;
  if (text.length > 253 || !text.split('.').every((part) => label.test(part))) {
    return `${text} is not a valid host name`;
  }
  return null;
}
