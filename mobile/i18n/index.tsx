import {
  createContext,
  type PropsWithChildren,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useState,
} from 'react';

import { readPreference, writePreference } from '@/lib/preferences';

import { en } from './en';
import { ru } from './ru';
import { type Messages, uk } from './uk';

export type { Messages };

export const LANGUAGES = ['uk', 'en', 'ru'] as const;
export type Language = (typeof LANGUAGES)[number];
export const DEFAULT_LANGUAGE: Language = 'uk';

export const dictionaries: Record<Language, Messages> = { uk, en, ru };

const LANGUAGE_KEY = 'foryou.language';

function isLanguage(value: string | null): value is Language {
  return value !== null && (LANGUAGES as readonly string[]).includes(value);
}

/** Replaces `{name}` placeholders; unknown placeholders stay visible rather than vanish. */
export function fill(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) =>
    key in values ? String(values[key]) : whole,
  );
}

export type PluralForm = 'one' | 'few' | 'many';

/**
 * The plural form of a count: Ukrainian and Russian share one rule (1 угода, 2 угоди, 5 угод;
 * 21 угода, 11 угод), English has one and many.
 */
export function pluralForm(language: Language, count: number): PluralForm {
  const n = Math.abs(Math.trunc(count));
  if (language === 'en') return n === 1 ? 'one' : 'many';
  const lastTwo = n % 100;
  const last = n % 10;
  if (last === 1 && lastTwo !== 11) return 'one';
  if (last >= 2 && last <= 4 && (lastTwo < 12 || lastTwo > 14)) return 'few';
  return 'many';
}

type I18nValue = { language: Language; t: Messages; setLanguage(language: Language): void };

const I18nContext = createContext<I18nValue>({
  language: DEFAULT_LANGUAGE,
  t: uk,
  setLanguage: () => undefined,
});

export function I18nProvider({
  children,
  initialLanguage,
}: PropsWithChildren<{ initialLanguage?: Language }>) {
  const [language, setLanguageState] = useState<Language>(initialLanguage ?? DEFAULT_LANGUAGE);

  useEffect(() => {
    if (initialLanguage) return;
    let active = true;
    readPreference(LANGUAGE_KEY)
      .then((saved) => {
        if (active && isLanguage(saved)) setLanguageState(saved);
      })
      .catch(() => undefined);
    return () => {
      active = false;
    };
  }, [initialLanguage]);

  const setLanguage = useCallback((next: Language) => {
    setLanguageState(next);
    writePreference(LANGUAGE_KEY, next).catch(() => undefined);
  }, []);

  const value = useMemo(
    () => ({ language, t: dictionaries[language], setLanguage }),
    [language, setLanguage],
  );
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18nValue {
  return useContext(I18nContext);
}
