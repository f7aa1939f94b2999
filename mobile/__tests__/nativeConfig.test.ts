/**
 * @jest-environment node
 *
 * The native projects prebuild would generate, read without generating them: Expo's config
 * introspection (`expo config --type introspect`) runs every config plugin in memory and returns
 * the AndroidManifest, Info.plist and entitlements they produce.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const MOBILE_ROOT = path.resolve(__dirname, '..');

type XmlNode = { $?: Record<string, string>; [child: string]: unknown };
type IntentFilter = XmlNode & { action?: XmlNode[]; category?: XmlNode[]; data?: XmlNode[] };
type Introspected = {
  _internal: {
    modResults: {
      android: { manifest: { manifest: { application: { activity: (XmlNode & { 'intent-filter'?: IntentFilter[] })[] }[] } } };
      ios: {
        infoPlist: { CFBundleURLTypes?: { CFBundleURLSchemes: string[] }[] };
        entitlements: Record<string, unknown>;
      };
    };
  };
};

function introspect(env: Record<string, string>): Introspected {
  const output = execFileSync('npx', ['expo', 'config', '--type', 'introspect', '--json'], {
    cwd: MOBILE_ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(output) as Introspected;
}

function mainActivity(config: Introspected) {
  const activity = config._internal.modResults.android.manifest.manifest.application[0]!.activity.find(
    (candidate) => candidate.$?.['android:name'] === '.MainActivity',
  );
  if (!activity) throw new Error('no MainActivity in the generated manifest');
  return activity;
}

const names = (nodes: XmlNode[] | undefined) => (nodes ?? []).map((node) => node.$?.['android:name']);
const dataOf = (filter: IntentFilter) => (filter.data ?? []).map((node) => node.$ ?? {});

function viewFilters(config: Introspected): IntentFilter[] {
  return (mainActivity(config)['intent-filter'] ?? []).filter((filter) =>
    names(filter.action).includes('android.intent.action.VIEW'),
  );
}

describe('native configuration (Expo config introspection)', () => {
  describe('with an app-link domain', () => {
    let config: Introspected;
    beforeAll(() => {
      config = introspect({ FORYOU_APP_SCHEME: 'foryouapp', FORYOU_APP_LINK_DOMAIN: 'links.example.org' });
    }, 60_000);

    test('Android: the custom scheme opens MainActivity (VIEW, DEFAULT, BROWSABLE), single task', () => {
      expect(mainActivity(config).$?.['android:launchMode']).toBe('singleTask');
      const schemeFilter = viewFilters(config).find((filter) =>
        dataOf(filter).some((data) => data['android:scheme'] === 'foryouapp'),
      );
      expect(schemeFilter).toBeDefined();
      expect(names(schemeFilter!.category)).toEqual(
        expect.arrayContaining(['android.intent.category.DEFAULT', 'android.intent.category.BROWSABLE']),
      );
    });

    test('Android: a verified App Link for https://<domain>/amo-crm/callback', () => {
      const appLink = viewFilters(config).find((filter) => dataOf(filter).some((data) => data['android:scheme'] === 'https'));
      expect(appLink?.$?.['android:autoVerify']).toBe('true');
      expect(dataOf(appLink!)).toEqual([
        { 'android:scheme': 'https', 'android:host': 'links.example.org', 'android:pathPrefix': '/amo-crm/callback' },
      ]);
      expect(names(appLink!.category)).toEqual(
        expect.arrayContaining(['android.intent.category.DEFAULT', 'android.intent.category.BROWSABLE']),
      );
    });

    test('iOS: the scheme in CFBundleURLTypes and the domain in associated domains', () => {
      const { infoPlist, entitlements } = config._internal.modResults.ios;
      expect(infoPlist.CFBundleURLTypes?.flatMap((type) => type.CFBundleURLSchemes)).toContain('foryouapp');
      expect(entitlements['com.apple.developer.associated-domains']).toEqual(['applinks:links.example.org']);
    });
  });

  test('without an app-link domain: the custom scheme only, no App Link, no associated domains', () => {
    const config = introspect({ FORYOU_APP_SCHEME: 'com.foryouapp.app', FORYOU_APP_LINK_DOMAIN: '' });
    const filters = viewFilters(config);
    expect(filters.flatMap(dataOf).map((data) => data['android:scheme'])).toEqual(['com.foryouapp.app']);
    expect(filters.some((filter) => filter.$?.['android:autoVerify'])).toBe(false);
    const { infoPlist, entitlements } = config._internal.modResults.ios;
    expect(infoPlist.CFBundleURLTypes?.flatMap((type) => type.CFBundleURLSchemes)).toContain('com.foryouapp.app');
    expect(entitlements['com.apple.developer.associated-domains']).toBeUndefined();
  }, 60_000);
});
