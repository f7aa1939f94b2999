import type { ConfigContext, ExpoConfig } from 'expo/config';

/**
 * Build-time configuration. Everything deployment-specific comes from the environment so one
 * code base serves the demo, staging and the stores:
 * - FORYOU_APP_SCHEME        custom URL scheme the backend redirects to (default "foryouapp");
 *                            must match the backend's FORYOU_APP_RETURN_URL.
 * - FORYOU_APP_LINK_DOMAIN   https domain for iOS Universal Links / Android App Links
 *                            (default "foryouapp.com"; empty disables both). The domain must serve
 *                            /.well-known/apple-app-site-association and /.well-known/assetlinks.json.
 * - FORYOU_IOS_BUNDLE_ID / FORYOU_ANDROID_PACKAGE   store identifiers.
 * - EXPO_PUBLIC_API_URL      backend base URL incl. /api/v1 (read at runtime by config.ts).
 */
const scheme = process.env.FORYOU_APP_SCHEME || 'foryouapp';
const appLinkDomain = process.env.FORYOU_APP_LINK_DOMAIN ?? 'foryouapp.com';
const bundleId = process.env.FORYOU_IOS_BUNDLE_ID || 'com.foryouapp.app';
const androidPackage = process.env.FORYOU_ANDROID_PACKAGE || 'com.foryouapp.app';

// The only path an app link opens directly: the amoCRM return for deployments whose
// Redirect URI is an app link (exchange-code mode). Everything else stays in the browser.
const appLinkPath = '/amo-crm/callback';

export default ({ config }: ConfigContext): ExpoConfig => ({
  ...config,
  name: 'ForYou',
  slug: 'foryou',
  version: '0.1.0',
  orientation: 'portrait',
  scheme,
  platforms: ['ios', 'android', 'web'],
  userInterfaceStyle: 'light',
  ios: {
    bundleIdentifier: bundleId,
    supportsTablet: false,
    ...(appLinkDomain ? { associatedDomains: [`applinks:${appLinkDomain}`] } : {}),
  },
  android: {
    package: androidPackage,
    // `scheme` above already registers the custom-scheme VIEW filter on MainActivity
    // (launchMode singleTask); this adds the verified https App Link.
    intentFilters: appLinkDomain
      ? [
          {
            action: 'VIEW',
            autoVerify: true,
            data: [{ scheme: 'https', host: appLinkDomain, pathPrefix: appLinkPath }],
            category: ['BROWSABLE', 'DEFAULT'],
          },
        ]
      : [],
  },
  web: { output: 'single', bundler: 'metro' },
  plugins: ['expo-router', 'expo-secure-store', 'expo-web-browser'],
  experiments: { typedRoutes: false },
  extra: { scheme },
});
