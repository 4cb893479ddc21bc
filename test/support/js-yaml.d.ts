/** js-yaml 4 ships no types; the monitoring test needs only `load`. */
declare module 'js-yaml' {
  export function load(text: string): unknown;
}
