import { withoutMetadataValues } from '../../src/telemetry/grpc-js-log';

describe("grpc-js's log lines", () => {
  it('lose the value of a metadata entry grpc-js dropped (a caller key with a stray character), keeping its name', () => {
    const line =
      'Failed to add metadata entry authorization: Bearer key_tenant_a_platform\u00e9. Metadata string value ' +
      '"Bearer key_tenant_a_platform\u00e9" contains illegal characters.';
    const cleaned = withoutMetadataValues(line);
    expect(JSON.stringify(cleaned)).not.toContain('key_tenant_a_platform');
    expect(cleaned).toEqual({
      message: 'Failed to add metadata entry: [redacted] (not a valid metadata value; dropped)',
      entry: 'authorization',
    });
  });

  it('say the same line whatever entry a caller named, so the log limiter holds the repeats back', () => {
    const lines = ['x-a', 'x-b', 'x-c'].map((name) =>
      withoutMetadataValues(`Failed to add metadata entry ${name}: \u00e9. Metadata string value`),
    );
    expect(new Set(lines.map((l) => l.message)).size).toBe(1);
    expect(lines.map((l) => l.entry)).toEqual(['x-a', 'x-b', 'x-c']);
  });

  it('lose the value whatever the length of the entry name', () => {
    const name = `x-${'a'.repeat(68)}`;
    const cleaned = withoutMetadataValues(`Failed to add metadata entry ${name}: key_b\u00e9. Metadata string value`);
    expect(JSON.stringify(cleaned)).not.toContain('key_b');
    expect(cleaned.entry).toBe(name.slice(0, 64));
  });

  it('keep other lines as they are', () => {
    expect(withoutMetadataValues('Server listening on 127.0.0.1:50051')).toEqual({
      message: 'Server listening on 127.0.0.1:50051',
    });
  });
});
