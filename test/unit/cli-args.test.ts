import { Flags, parseArgs, UsageError } from '../../src/cli/args';

describe('billing command lines', () => {
  it('never reads the word after a switch as its value', () => {
    const args = parseArgs(['subscriptions', 'cancel', '--at-period-end', 'sub_1']);
    expect(args.positional).toEqual(['subscriptions', 'cancel', 'sub_1']);
    const flags = new Flags(args);
    expect(flags.switch('at-period-end')).toBe(true);
    expect(flags.operand(2, 'ID')).toBe('sub_1');
    expect(() => flags.done(3)).not.toThrow();
  });

  it('keeps each declared switch a switch wherever it stands', () => {
    const args = parseArgs(['plans', 'list', '--archived', 'x', '--all', 'y', '--json', 'z', '--from-beginning', 'w']);
    expect(args.positional).toEqual(['plans', 'list', 'x', 'y', 'z', 'w']);
    expect(parseArgs(['--help', 'subscriptions']).positional).toEqual(['subscriptions']);
  });

  it('still gives value flags the next word, and --name=value its value', () => {
    const flags = new Flags(parseArgs(['customers', 'list', '--storefront', 'demo', '--email=a@example.com']));
    expect(flags.required('storefront')).toBe('demo');
    expect(flags.optional('email')).toBe('a@example.com');
    expect(() => flags.done(2)).not.toThrow();
  });

  it('refuses a switch given a value with =, and a value flag given none', () => {
    expect(() => new Flags(parseArgs(['--json=yes'])).switch('json')).toThrow(UsageError);
    expect(() => new Flags(parseArgs(['--storefront', '--json'])).required('storefront')).toThrow(
      '--storefront needs a value',
    );
  });
});
