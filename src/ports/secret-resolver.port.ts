/** Turns a secret reference ("env:NAME", "file:/path") into the secret. Undefined when it resolves to nothing. */
export interface SecretResolver {
  resolve(reference: string): string | undefined;
}
