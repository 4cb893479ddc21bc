/**
 * ISO 3166-1 alpha-2 codes, for emulators (they may import the kit, never src/): the service's own list, not the Node
 * build's ICU region names (which also know EU, XK, QO, UN), so an emulator refuses a country exactly as the service does.
 */
export { isCountry } from '../../src/domain/countries';
