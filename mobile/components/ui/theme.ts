/**
 * The palette. Every text colour keeps a contrast of at least 4.5:1 (WCAG AA) on the
 * backgrounds it is drawn on; `__tests__/contrast.test.ts` computes each pair.
 */
export const colors = {
  background: '#F6F7F9',
  surface: '#FFFFFF',
  text: '#1B1F24',
  muted: '#5E6773',
  /** Hints inside empty inputs: lighter than what the broker typed, still readable. */
  placeholder: '#6B7480',
  primary: '#1A56F0',
  primaryText: '#FFFFFF',
  border: '#DDE1E6',
  success: '#137333',
  successBackground: '#E6F4EA',
  danger: '#C5221F',
  dangerBackground: '#FCE8E6',
  infoBackground: '#E8F0FE',
  /** Needs attention, not broken: a broker who must reconnect, an agency token close to expiry. */
  warning: '#8A4B00',
  warningBackground: '#FFF1DB',
  /** Badges of states that are neither good nor bad (disconnected, never connected). */
  neutralBackground: '#ECEEF1',
};

/** The smallest touch target (Apple HIG 44 pt; Material asks 48 dp, which our buttons meet). */
export const MIN_TOUCH = 44;

export const spacing = { xs: 4, sm: 8, md: 12, lg: 16, xl: 24 };

/** A choice inside a bottom sheet (a stage, a pipeline): one bordered row, the chosen one tinted. */
export const sheetOption = {
  row: {
    flexDirection: 'row',
    alignItems: 'center',
    gap: spacing.md,
    minHeight: MIN_TOUCH,
    paddingHorizontal: spacing.md,
    borderRadius: 10,
    borderWidth: 1,
    borderColor: colors.border,
  },
  chosen: { backgroundColor: colors.infoBackground, borderColor: colors.primary },
} as const;
