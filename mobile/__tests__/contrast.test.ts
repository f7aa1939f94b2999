import { colors } from '@/components/ui/theme';

/** WCAG 2.x relative luminance of an `#RRGGBB` colour. */
function luminance(hex: string): number {
  const channels = [1, 3, 5].map((start) => parseInt(hex.slice(start, start + 2), 16) / 255);
  const [r, g, b] = channels.map((value) => (value <= 0.03928 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

function contrast(foreground: string, background: string): number {
  const [light, dark] = [luminance(foreground), luminance(background)].sort((a, b) => b - a);
  return (light! + 0.05) / (dark! + 0.05);
}

type Colour = keyof typeof colors;

/** Every text colour the screens draw, on every background it is drawn on. */
const TEXT_ON_BACKGROUND: readonly [text: Colour, background: Colour][] = [
  ['text', 'background'],
  ['text', 'surface'],
  ['text', 'successBackground'],
  ['text', 'infoBackground'],
  ['muted', 'background'],
  ['muted', 'surface'],
  ['placeholder', 'surface'],
  ['primary', 'background'], // links, the tab bar's active tab
  ['primary', 'surface'],
  ['primary', 'infoBackground'], // initials, the connect screen's icon
  ['primary', 'successBackground'], // «Відкрити» in the created-lead notice
  ['primaryText', 'primary'], // primary buttons, the selected chip
  ['success', 'successBackground'],
  ['danger', 'surface'],
  ['danger', 'background'],
  ['danger', 'dangerBackground'],
  ['text', 'dangerBackground'], // the reconnect request banner on the CRM tab
  ['warning', 'warningBackground'], // state badges, the agency token's expiry banner
  ['text', 'warningBackground'],
  ['primary', 'warningBackground'],
  ['warning', 'surface'], // a pending reconnect request on a broker's row
  ['muted', 'neutralBackground'],
  ['text', 'neutralBackground'],
];

describe('palette contrast', () => {
  test.each(TEXT_ON_BACKGROUND)('%s on %s is at least 4.5:1', (text, background) => {
    expect(contrast(colors[text], colors[background])).toBeGreaterThanOrEqual(4.5);
  });

  test('the formula matches known values', () => {
    expect(contrast('#000000', '#FFFFFF')).toBeCloseTo(21, 5);
    expect(contrast('#777777', '#FFFFFF')).toBeCloseTo(4.48, 2);
  });
});
