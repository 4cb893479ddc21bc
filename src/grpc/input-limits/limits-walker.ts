import type { Violation } from '../../domain/errors';
import {
  DEFAULT_INT32,
  DEFAULT_INT64,
  DEFAULT_MAP,
  MAP_RULES,
  MAX_DEPTH,
  MAX_ENTRIES,
  RANGE_RULES,
  RangeRule,
  TextRule,
  textRuleFor,
  TIME_RANGE,
} from './limit-rules';
import type { FieldSchema, FieldType, MessageSchema } from './request-schema';

/** One error names at most this many fields; the walk stops there so a hostile request costs little. */
const MAX_VIOLATIONS = 10;

/**
 * Every violation of the input limits in a decoded request, each naming its field by path in snake_case
 * (`address.line1`, `feature_keys[3]`, `provider_config["x"]`) and the rule. Never throws on odd values.
 */
export function findViolations(request: unknown, schema: MessageSchema): Violation[] {
  const violations: Violation[] = [];
  const add = (field: string, rule: string) => {
    if (violations.length < MAX_VIOLATIONS) violations.push({ field, rule });
  };
  const full = () => violations.length >= MAX_VIOLATIONS;

  const walkMessage = (message: unknown, s: MessageSchema, prefix: string, depth: number) => {
    if (message === undefined || message === null) return;
    if (typeof message !== 'object') return add(prefix || 'request', 'must be a message');
    if (depth > MAX_DEPTH) return add(prefix, `must not nest deeper than ${MAX_DEPTH} levels`);
    for (const field of s.fields) {
      if (full()) return;
      walkField(
        (message as Record<string, unknown>)[field.key],
        field,
        prefix ? `${prefix}.${field.name}` : field.name,
        depth,
      );
    }
  };

  const walkField = (value: unknown, field: FieldSchema, path: string, depth: number) => {
    if (field.type.kind === 'map') return walkMap(value, field, path, depth);
    if (!field.repeated) return checkValue(value, field.type, field.name, path, depth);
    if (value === undefined) return;
    if (!Array.isArray(value)) return add(path, 'must be a list');
    if (value.length > MAX_ENTRIES) return add(path, `must have at most ${MAX_ENTRIES} entries`);
    value.forEach((item, i) => checkValue(item, field.type, field.name, `${path}[${i}]`, depth));
  };

  const walkMap = (value: unknown, field: FieldSchema, path: string, depth: number) => {
    if (value === undefined) return;
    if (typeof value !== 'object' || value === null) return add(path, 'must be a map');
    const entries = Object.entries(value);
    if (entries.length > MAX_ENTRIES) return add(path, `must have at most ${MAX_ENTRIES} entries`);
    const rule = MAP_RULES[field.name] ?? DEFAULT_MAP;
    const valueType = (field.type as { value: FieldType }).value;
    for (const [key, entry] of entries) {
      const entryPath = `${path}[${JSON.stringify(key.slice(0, 32))}]`;
      if (!fitsText(key, rule.key)) add(entryPath, `key ${rule.key.says}`);
      else if (valueType.kind === 'string') checkText(entry ?? '', rule.value, entryPath);
      else checkValue(entry, valueType, field.name, entryPath, depth);
    }
  };

  const checkValue = (value: unknown, type: FieldType, name: string, path: string, depth: number) => {
    // `optional` fields and unset messages decode as undefined: not set, nothing to check.
    if (value === undefined) return;
    switch (type.kind) {
      case 'string':
        return checkText(value, textRuleFor(name), path);
      case 'int32':
      case 'int64':
        return checkRange(value, RANGE_RULES[name] ?? (type.kind === 'int64' ? DEFAULT_INT64 : DEFAULT_INT32), path);
      case 'enum':
        if (typeof value !== 'number' || !type.values.has(value)) add(path, 'must be one of the enum values');
        return;
      case 'timestamp':
        return checkTime(value, path);
      case 'float':
        if (typeof value !== 'number' || !Number.isFinite(value)) add(path, 'must be a finite number');
        return;
      case 'message':
        return walkMessage(value, type.schema(), path, depth + 1);
      default:
        return;
    }
  };

  const checkText = (value: unknown, rule: TextRule, path: string) => {
    if (typeof value !== 'string') return add(path, 'must be a string');
    if (value !== '' && !fitsText(value, rule)) add(path, rule.says);
  };

  const checkRange = (value: unknown, rule: RangeRule, path: string) => {
    if (typeof value !== 'number' && typeof value !== 'bigint') return add(path, 'must be an integer');
    if (typeof value === 'number' && !Number.isInteger(value)) return add(path, 'must be an integer');
    const n = BigInt(value);
    if (n < rule.min || n > rule.max) add(path, `must be between ${rule.min} and ${rule.max}`);
  };

  const checkTime = (value: unknown, path: string) => {
    const ms = value instanceof Date ? value.getTime() : NaN;
    if (!(ms >= TIME_RANGE.min && ms <= TIME_RANGE.max)) add(path, 'must be a time between years 1970 and 9999');
  };

  walkMessage(request, schema, '', 0);
  return violations;
}

function fitsText(value: string, rule: TextRule): boolean {
  return value.length <= rule.max && rule.pattern.test(value);
}
