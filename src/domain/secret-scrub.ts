/** What replaces a secret in text that leaves an adapter. */
export const SCRUBBED = '[secret]';

/**
 * `text` with every secret value removed: exact, base64 (standard and url-safe), URL-encoded and hex forms, so a
 * provider or transport echoing a credential (an Authorization header in an error body, say) cannot leak it.
 * Values shorter than 4 characters are left alone: they would scrub ordinary words and protect nothing.
 */
export function scrubSecrets(text: string, secrets: Iterable<string>): string {
  let scrubbed = text;
  for (const form of secretForms(secrets)) scrubbed = scrubbed.split(form).join(SCRUBBED);
  return scrubbed;
}

/** Every form of every secret, longest first so a longer form is not cut by a shorter one inside it. */
function secretForms(secrets: Iterable<string>): string[] {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    const bytes = Buffer.from(secret, 'utf8');
    for (const form of [
      secret,
      secret.trim(),
      encodeURIComponent(secret),
      encodeURI(secret),
      bytes.toString('base64'),
      bytes.toString('base64').replace(/=+$/, ''),
      bytes.toString('base64url'),
      bytes.toString('hex'),
      JSON.stringify(secret).slice(1, -1),
      ...embeddedBase64(bytes),
    ]) {
      if (form.length >= 4) forms.add(form);
    }
  }
  return [...forms].sort((a, b) => b.length - a.length);
}

/**
 * The base64 characters that encode only the secret when it sits inside a longer encoded value (`Basic
 * base64(user:secret)`): the secret after 0, 1 or 2 leading bytes, without the characters it shares with neighbours.
 */
function embeddedBase64(bytes: Buffer): string[] {
  const forms: string[] = [];
  for (const lead of [0, 1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(lead), bytes])
      .toString('base64')
      .replace(/=+$/, '');
    const start = [0, 2, 3][lead]!;
    // Characters after the last whole 3-byte group also hold bits of whatever follows the secret.
    const whole = Math.floor((lead + bytes.length) / 3) * 4;
    const core = encoded.slice(start, whole);
    if (core.length >= 8) forms.push(core, core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return forms;
}
